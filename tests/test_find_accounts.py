"""Find my accounts covers every way a membership can exist, each vouched for by someone whose
word counts for it (identity/trust.py): the person's own proof (a verified address) for every
account; an account's SCIM, identity provider and verified email domains for that account only.
The mail goes to the address and the page answers the same for every address."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from accounts.provisioning import add_member
from identity.scim.provisioning import create_member
from tests.conftest import PASSWORD, host_client
from tests.support.frontdoor_support import host_and_path, last_mail, link_with, links
from tests.support.sso_support import make_key_pair, saml_provider, verify_email_domain
from tests.test_sso_saml import ENTITY, post_response, respond, start

NEW_PASSWORD = "a-long-unique-password-42"


@pytest.fixture(autouse=True)
def _roomy_limits(settings):  # type: ignore[no-untyped-def]
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "find_accounts": "100/h/ip,100/h/key"}


def _found(email: str) -> set[str]:
    """The hosts the find-my-accounts mail to ``email`` links to, after the same answer as an
    unknown address."""
    mail.outbox.clear()
    known = host_client("localhost").post("/accounts/find/", {"email": email})
    unknown = host_client("localhost").post("/accounts/find/", {"email": "nobody@nowhere.test"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"]) == (
        302, "/accounts/find/sent/")
    return {host_and_path(u)[0] for u in links(last_mail(email.lower()))}


def _scim_member(tenant, email: str) -> None:  # type: ignore[no-untyped-def]
    create_member(tenant.account, {"user_name": email, "email": email, "external_id": "ext-1"})


def _sso_member(tenant, email: str) -> None:  # type: ignore[no-untyped-def]
    """A first SAML sign-in through the account's IdP: a new member with the IdP's address,
    saved unverified."""
    keys = make_key_pair()
    verify_email_domain(tenant.account, email.rpartition("@")[2])
    provider = saml_provider(tenant.account, keys, entity_id=ENTITY)
    client = host_client(tenant.host)
    done = post_response(client, provider.slug,
                         respond(keys, tenant.host, provider.slug, start(client, provider.slug), email=email))
    assert done.status_code == 302


def _invited_member(tenant, email: str) -> None:  # type: ignore[no-untyped-def]
    admin = host_client(tenant.host, tenant.admin.user)
    assert admin.post("/console/invitations/", {"email": email, "role": "member"}).status_code == 302
    _, path = host_and_path(link_with(last_mail(email), "/invitations/"))
    accepted = host_client(tenant.host).post(path, {"first_name": "New", "password1": NEW_PASSWORD,
                                                    "password2": NEW_PASSWORD})
    assert accepted.status_code == 302


def _password_member(tenant, email: str) -> None:  # type: ignore[no-untyped-def]
    profile, _ = add_member(tenant.account, email, email=email, password=PASSWORD)
    EmailAddress.objects.create(user=profile.user, email=email, verified=True, primary=True)


WAYS = {"password user, verified address": _password_member, "SCIM-provisioned": _scim_member,
        "SSO sign-in": _sso_member, "invited and accepted": _invited_member}


@pytest.mark.parametrize("way", WAYS)
def test_every_way_a_membership_exists_is_found(platform, tenant_a, way):
    email = "frank@alpha.test"
    WAYS[way](tenant_a, email)
    assert get_user_model().objects.filter(email__iexact=email).count() == 1
    assert _found(email.upper()) == {tenant_a.host}


def test_an_accounts_word_about_an_address_counts_in_that_account_only(platform, tenant_a, tenant_b):
    """Frank came from A's IdP (address unverified, vouched for by A's domain) and was added to
    B by an operator: his A address names A only. Made a member of B by B's SCIM under another
    name, the address still names A only; under that name, B only."""
    email = "frank@alpha.test"
    _sso_member(tenant_a, email)
    frank = get_user_model().objects.get(email=email)
    add_member(tenant_b.account, frank.username)
    assert _found(email) == {tenant_a.host}
    create_member(tenant_b.account, {"user_name": "frank@bravo.test", "email": "frank@bravo.test"})
    assert _found(email) == {tenant_a.host}
    assert _found("frank@bravo.test") == {tenant_b.host}
    # Once Frank proves the address himself, it names every account he belongs to.
    EmailAddress.objects.filter(user=frank, email=email).update(verified=True)
    assert _found(email) == {tenant_a.host, tenant_b.host}


def test_an_address_nobody_vouched_for_names_nothing(platform, tenant_a):
    """A user's unverified address outside the account's verified domains and not given by
    its SCIM (an operator typed it, or a sign-up never confirmed) names no account."""
    squatter, _ = add_member(tenant_a.account, "squatter", email="victim@corp.test", password=PASSWORD)
    EmailAddress.objects.create(user=squatter.user, email="victim@corp.test", verified=False, primary=True)
    assert _found("victim@corp.test") == set()
