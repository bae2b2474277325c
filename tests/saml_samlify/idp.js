// samlify's IdentityProvider on loopback for the SAML browser test. Reads its configuration as
// JSON from the environment variable SAML_SAMLIFY (port, entity_id, key_pem, cert_pem, the
// service provider's entity ID and ACS URL, and the person) and prints "ready" once it listens.
//   GET /metadata  the IdP's metadata (entity ID, HTTP-Redirect SSO URL, signing certificate)
//   GET /sso       takes the AuthnRequest (HTTP-Redirect binding) and answers a page whose form
//                  posts the signed Response to the ACS URL by itself (HTTP-POST binding)
// person.attributes false sends the NameID (format unspecified, the address) and no
// AttributeStatement, as Google Workspace does by default.
'use strict';
const http = require('http');
const crypto = require('crypto');
const saml = require('samlify');

const cfg = JSON.parse(process.env.SAML_SAMLIFY);
const person = cfg.person;
const base = `http://127.0.0.1:${cfg.port}`;
const { binding } = saml.Constants.namespace;
const UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

// The AuthnRequest is ours to read, not under test: samlify asks for an XSD validator, and this
// IdP trusts its loopback SP.
saml.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const idp = saml.IdentityProvider({
  entityID: cfg.entity_id,
  privateKey: cfg.key_pem,
  signingCert: cfg.cert_pem,
  nameIDFormat: [person.attributes ? PERSISTENT : UNSPECIFIED],
  singleSignOnService: [{ Binding: binding.redirect, Location: `${base}/sso` }],
  wantAuthnRequestsSigned: false,
});
const sp = saml.ServiceProvider({
  entityID: cfg.sp_entity_id,
  assertionConsumerService: [{ Binding: binding.post, Location: cfg.acs_url }],
  wantAssertionsSigned: true,
  authnRequestsSigned: false,
});

function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(template, tags) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in tags ? escape(tags[name]) : whole));
}

function attributeStatement() {
  if (!person.attributes) return '';
  const attrs = [['email', [person.email]], ['groups', person.groups || []]]
    .filter(([, values]) => values.length)
    .map(([name, values]) => `<saml:Attribute Name="${escape(name)}">`
      + values.map((v) => `<saml:AttributeValue>${escape(v)}</saml:AttributeValue>`).join('')
      + '</saml:Attribute>');
  return `<saml:AttributeStatement>${attrs.join('')}</saml:AttributeStatement>`;
}

async function respond(req, res, url) {
  const request = await idp.parseLoginRequest(sp, 'redirect', { query: Object.fromEntries(url.searchParams) });
  const requestId = request.extract.request.id;
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
  const id = `_${crypto.randomBytes(16).toString('hex')}`;
  const assertionId = `_${crypto.randomBytes(16).toString('hex')}`;
  const authn = `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${assertionId}">`
    + '<saml:AuthnContext><saml:AuthnContextClassRef>'
    + 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
    + '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>';
  const { context } = await idp.createLoginResponse(sp, request, 'post', { email: person.email }, {
    customTagReplacement: (template) => {
      const xml = render(template, {
        ID: id, AssertionID: assertionId, Destination: cfg.acs_url, Audience: cfg.sp_entity_id,
        EntityID: cfg.sp_entity_id, SubjectRecipient: cfg.acs_url, Issuer: cfg.entity_id,
        IssueInstant: now.toISOString(), StatusCode: saml.Constants.StatusCode.Success,
        ConditionsNotBefore: now.toISOString(), ConditionsNotOnOrAfter: later,
        SubjectConfirmationDataNotOnOrAfter: later,
        NameIDFormat: person.attributes ? PERSISTENT : UNSPECIFIED,
        NameID: person.attributes ? person.subject : person.email, InResponseTo: requestId,
      }).replace('{AuthnStatement}', authn).replace('{AttributeStatement}', attributeStatement());
      return { id, context: xml };
    },
  });
  const relay = url.searchParams.get('RelayState');
  const relayInput = relay ? `<input type="hidden" name="RelayState" value="${escape(relay)}">` : '';
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><head><title>samlify IdP</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="${escape(cfg.acs_url)}">
<input type="hidden" name="SAMLResponse" value="${escape(context)}">${relayInput}
<noscript><button type="submit">Continue</button></noscript></form></body></html>`);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, base);
  if (req.method === 'GET' && url.pathname === '/metadata') {
    res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' });
    res.end(idp.getMetadata());
  } else if (req.method === 'GET' && url.pathname === '/sso') {
    respond(req, res, url).catch((err) => {
      console.error(err);
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`SAML request refused: ${err}`);
    });
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }
});
server.listen(cfg.port, '127.0.0.1', () => { console.log('ready'); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
