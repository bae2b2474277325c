"""Keep the cached provider lists current, forget a removed provider's identities, and
record every SSO sign-in (source ``sso``) with the session's SSO max age."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenancy.cache import invalidate_with_commit

from .cache_keys import providers_key
from .models import IdentityProvider
from .signin import signed_in


@receiver(post_save, sender=IdentityProvider)
@receiver(post_delete, sender=IdentityProvider)
def provider_changed(sender: Any, instance: IdentityProvider, **kwargs: Any) -> None:
    invalidate_with_commit(providers_key(instance.account_id))


@receiver(post_delete, sender=IdentityProvider)
def forget_identities(sender: Any, instance: IdentityProvider, **kwargs: Any) -> None:
    """A later provider may get the same slug: it must never inherit these subjects' users."""
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.filter(provider=instance.slug).delete()


@receiver(user_logged_in)
def sso_signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is not None:
        signed_in(request, user, sociallogin)
