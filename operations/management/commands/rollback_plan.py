"""``manage.py rollback_plan --before 2026-12-03T10:00Z``: the ``migrate`` commands that return
the database to what the release deployed before that moment expects, and what each reversal
does. Run it on the current release, before ``heroku rollback``; it changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser

from operations.rollback import NothingToReturnTo, plan_back_to
from tenancy.commands import PlatformCommand


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--before must be a date and time such as 2026-12-03T10:00Z, "
                           f"got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(PlatformCommand):
    help = "Print the migrate commands that undo the migrations applied after a release's deployment"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True,
                            help="when the release to return to was deployed (heroku releases), e.g. "
                                 "2026-12-03T10:00Z; naive times are UTC")

    def handle(self, *args: Any, **options: Any) -> None:
        moment = _moment(options["before"])
        try:
            plan = plan_back_to(moment)
        except NothingToReturnTo as exc:
            raise CommandError(str(exc)) from None
        if not plan.steps:
            self.stdout.write("Nothing to reverse: no migration was applied after "
                              f"{moment:%Y-%m-%d %H:%M %Z}.")
            return
        self.stdout.write("Run these before rolling the code back (on the current release), in this order:")
        for app, target in plan.targets.items():
            self.stdout.write(f"  python manage.py migrate {app} {target}")
        self.stdout.write(f"\nThey reverse {len(plan.steps)} migration(s), newest first:")
        for step in plan.steps:
            flags = " [IRREVERSIBLE]" if step.irreversible else " [DATABASE WALL]" if step.wall else ""
            self.stdout.write(f"  {step.app} {step.name}{flags}")
            for effect in step.effects:
                self.stdout.write(f"      {effect}")
        if any(s.irreversible for s in plan.steps):
            raise CommandError("Some of these migrations cannot be reversed: ship a forward fix instead.")
        if any(s.wall for s in plan.steps):
            self.stdout.write("\nReversing a database-wall migration removes row-level security from "
                              "those tables (the release it returns to predates it): roll the code back "
                              "right after, and re-apply the migrations with the release that added them.")
