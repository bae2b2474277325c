"""Who a person is and who vouches for them: the front door (sign-in, sign-up, hand-offs,
invitations, find-my-accounts), the profile, single sign-on, SCIM provisioning and verified
email domains. Each sub-package is a Django app that keeps its own label (``frontdoor``,
``profiles``, ``sso``, ``scim``, ``emaildomains``), so its tables and migrations did not move."""
