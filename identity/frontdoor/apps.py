from django.apps import AppConfig


class FrontdoorConfig(AppConfig):
    """The way in: allauth's sign-in and sign-up with the tenant rules, hand-offs between
    hosts, accepting invitations, and "find my accounts"."""

    name = "identity.frontdoor"
    label = "frontdoor"
    verbose_name = "Front door"
