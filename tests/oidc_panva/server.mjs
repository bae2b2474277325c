// panva's oidc-provider on loopback for the SSO tests. Reads its configuration as JSON from the
// environment variable OIDC_PANVA (issuer, port, client, person, private JWKS) and prints
// "ready" once it listens. Development interactions (its own sign-in and consent pages) stand
// in for the IdP's sign-in.
import Provider from 'oidc-provider';

const cfg = JSON.parse(process.env.OIDC_PANVA);
const person = cfg.person;
const provider = new Provider(cfg.issuer, {
  clients: [{
    client_id: cfg.client_id,
    client_secret: cfg.client_secret,
    redirect_uris: [cfg.redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: cfg.jwks,
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: person.email, email_verified: person.email_verified,
                           given_name: 'Frank', groups: person.groups }),
  }),
});
provider.proxy = false;
const server = provider.listen(cfg.port, '127.0.0.1', () => { console.log('ready'); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
