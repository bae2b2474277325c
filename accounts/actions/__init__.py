"""Actions: the one place each change of an account's members is made.

Every surface (the console, the API, SCIM, single sign-on, accepting an invitation) calls these
functions instead of saving rows itself, so a rule holds whichever way a change comes in. Each
action runs in one transaction, locks the rows it changes, checks the rules, and its audit
events are written by the audit app's model signals inside that same transaction.

``members`` changes memberships; ``invites`` sends invitations (it wraps
``accounts.invitations``, which itself joins members through ``members``).
"""
