"""The IdP's claims: the user's address (verified) and groups, in the ID token and userinfo."""

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below, whatever the scopes

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {"email": user.email, "email_verified": True, "given_name": user.first_name,
                "family_name": user.last_name, "groups": [g.name for g in user.groups.all()]}
