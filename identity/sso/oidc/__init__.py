"""allauth's OpenID Connect provider held to the book (``SOCIALACCOUNT_PROVIDERS`` names
:class:`provider.TenantOIDCProvider` as the ``openid_connect`` provider class; its URLs, same
paths and names as allauth's, are this package's ``urls``)."""
