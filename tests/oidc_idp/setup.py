"""Create the IdP's person and client application (run in the IdP's settings):
``python -m tests.oidc_idp.setup <client_id> <client_secret> <redirect_uri> <email> <password> [group]``."""

import sys

import django


def main(client_id: str, secret: str, redirect_uri: str, email: str, password: str, group: str = "") -> None:
    django.setup()
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    user = User.objects.create_user(username=email, email=email, password=password, first_name="Frank")
    if group:
        user.groups.add(Group.objects.create(name=group))
    Application.objects.create(
        name="Smarter tenant", client_id=client_id, client_secret=secret, redirect_uris=redirect_uri,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM, skip_authorization=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
