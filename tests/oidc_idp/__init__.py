"""A real OpenID Connect identity provider for the SSO browser test: django-oauth-toolkit with
OIDC enabled, run as a second Django server process on loopback (its own settings, its own
SQLite file; nothing of the project is installed in it)."""
