"""Load a demo tenant for local use: idempotent, and refused when DEBUG is off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from accounts.models import Account
from accounts.provisioning import add_member, ensure_default_account
from tenancy.commands import PlatformCommand
from tenancy.hosts import tenant_host
from workspaces.models import Workspace

DEMO_ACCOUNT_NUMBER = "3141-5926-5359"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - local demo only, refused without DEBUG


class Command(PlatformCommand):
    help = "Create the demo: default account, tenant 3141-5926-5359 with an admin, a member, workspaces."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("load_demo is for local development; it refuses to run with DEBUG off.")
        with transaction.atomic():
            platform, _ = ensure_default_account()
            add_member(platform, "admin", email="admin@example.com", password=DEMO_PASSWORD,
                       superuser=True)
            account = Account.objects.filter(account_number=DEMO_ACCOUNT_NUMBER).first()
            if account is None:
                account = Account.objects.create(
                    account_number=DEMO_ACCOUNT_NUMBER, company_name="Acme Inc"
                )
            alice, _ = add_member(account, "alice", email="alice@example.com",
                                  password=DEMO_PASSWORD, admin=True)
            add_member(account, "bob", email="bob@example.com", password=DEMO_PASSWORD)
            for name, public in (("team", True), ("secret", False)):
                if not Workspace.objects.filter(account=account, name=name).exists():
                    Workspace.objects.create(
                        user_profile=alice, name=name, is_public=public,
                        description=f"The {name} workspace of Acme Inc.",
                    )
        port = settings.PORT
        self.stdout.write(
            "\nDemo loaded. Open:\n"
            f"  platform (default account)  http://{tenant_host()}:{port}/\n"
            f"  tenant Acme Inc            http://{tenant_host(DEMO_ACCOUNT_NUMBER)}:{port}/\n"
            f"  public workspace 'team'    http://{tenant_host(DEMO_ACCOUNT_NUMBER, 'team')}:{port}/\n"
            f"  private workspace 'secret' http://{tenant_host(DEMO_ACCOUNT_NUMBER, 'secret')}:{port}/\n"
            f"  account admin console      http://{tenant_host(DEMO_ACCOUNT_NUMBER)}:{port}/console/\n"
            f"  sign up (new account)      http://{tenant_host()}:{port}/accounts/signup/"
            f"{'' if settings.SIGNUP_OPEN else '  (closed: SIGNUP_OPEN is off)'}\n"
            f"  find my accounts           http://{tenant_host()}:{port}/accounts/find/\n"
            "Mails (verification, invitations, resets) are printed in this terminal.\n"
            f"Sign in as alice (account admin), bob (member) or admin (platform superuser);\n"
            f"demo password for all three: {DEMO_PASSWORD}\n"
        )
