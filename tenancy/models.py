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
        help_text="A short name people will recognise.",
    )
    description = models.TextField(
        "Description", blank=True, default="",
        help_text="What it is for, in a sentence or two. The people who can see it read this.",
    )
    version = models.CharField(
        "Version", max_length=32, default="1.0.0", validators=[validate_semver],
        help_text="For integrations that track changes: three numbers such as 1.0.0. "
        "Leave it as it is if you are not sure.",
    )
    annotations = models.JSONField(
        "Annotations", default=dict, blank=True,
        help_text="Extra details for integrations, as JSON pairs such as {\"team\": \"sales\"}. "
        "Leave it empty if you are not sure.",
    )
    tags = TaggableManager(
        "Tags", blank=True, help_text="Words to group and find it by, separated by commas."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        validate_semver(self.version)
        super().save(*args, **kwargs)
