from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    """The signed-in person's own page: name, email addresses, password, two-factor
    authentication and the sessions they are signed in with (on every host)."""

    name = "identity.profiles"
    label = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
