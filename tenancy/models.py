"""Abstract base models shared by every app; tenancy itself owns no tables."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from taggit.managers import TaggableManager

from .validators import validate_single_line

SEMVER_RE = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z"
validate_semver = RegexValidator(
    SEMVER_RE, "Version must be MAJOR.MINOR.PATCH, e.g. 1.0.0.", code="invalid_version"
)


class MetaDataModel(models.Model):
    """Timestamps plus the descriptive metadata every resource carries."""

    created_at = models.DateTimeField("Created at", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("Updated at", auto_now=True, db_index=True)
    name = models.CharField(
        "Name", max_length=255, blank=True, default="", validators=[validate_single_line],
        help_text="Name in camelCase, e.g., 'apiKey', no special characters.",
    )
    description = models.TextField(
        "Description", blank=True, default="",
        help_text="A brief description of this resource. Be verbose, but not too verbose.",
    )
    version = models.CharField(
        "Version", max_length=32, default="1.0.0", validators=[validate_semver],
        help_text="Semantic version in the format MAJOR.MINOR.PATCH, e.g., '1.0.0'.",
    )
    annotations = models.JSONField(
        "Annotations", default=dict, blank=True,
        help_text="Key-value pairs for annotating this resource.",
    )
    tags = TaggableManager(
        "Tags", blank=True, help_text="Tags for categorizing and organizing this resource."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        validate_semver(self.version)
        super().save(*args, **kwargs)
