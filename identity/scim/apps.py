from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "identity.scim"
    label = "scim"
    verbose_name = "SCIM provisioning"
