"""The console's clone: a platform superuser copies an account (a task: export, then import
with stand-in users) for support or staging; account admins see no such button and may not
use it; nobody of the original is attached to the copy."""

from __future__ import annotations

from accounts.models import Account, UserProfile
from audit.models import AuditEvent
from identity.frontdoor.views import _active_tenants
from tests.conftest import host_client
from tests.support.portability_support import seed
from workspaces.models import Workspace


def test_a_superuser_clones_an_account_with_stand_in_members(platform, tenant_a):
    seed(tenant_a, "alpha")
    root = host_client(tenant_a.host, platform.admin.user)
    page = root.get("/console/exports/").content.decode()
    assert 'id="clone-account"' in page and "No clones yet." in page
    before = set(Account.objects.values_list("pk", flat=True))
    response = root.post("/console/exports/clone/")
    assert response.status_code == 302 and response["Location"] == "/console/exports/"
    [clone] = Account.objects.exclude(pk__in=before)
    assert clone.company_name == tenant_a.account.company_name and clone.is_active
    assert sorted(Workspace.objects.filter(account=clone).values_list("name", flat=True)) == [
        "alpha-home", "alpha-other"]
    profiles = UserProfile.objects.filter(account=clone).select_related("user")
    assert profiles.count() == 2
    originals = {tenant_a.admin.user_id, tenant_a.member.user_id}
    for profile in profiles:  # stand-ins: new, inactive, no password
        assert profile.user_id not in originals
        assert not profile.user.is_active and not profile.user.has_usable_password()
    assert [a.pk for a in _active_tenants("admin@alpha.test")] == [tenant_a.account.pk]
    event = AuditEvent.objects.get(account=tenant_a.account, action="account.cloned")
    assert event.target_repr == clone.account_number and event.actor == "platform-admin"
    assert (event.source, event.source_label) == ("task", "clone_account")
    assert AuditEvent.objects.get(account=tenant_a.account, action="account.clone_requested").actor == \
        "platform-admin"
    page = root.get("/console/exports/").content.decode()
    assert f">{clone.account_number}</a>" in page and clone.account_number in page
    # the copy's console opens for the superuser
    assert host_client(f"{clone.account_number}.{tenant_a.host.split('.', 1)[1]}",
                       platform.admin.user).get("/console/").status_code == 200


def test_account_admins_see_no_clone_and_may_not_clone(tenant_a):
    count = Account.objects.count()
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    page = admin.get("/console/exports/").content.decode()
    assert "Request an export" in page and "clone" not in page.lower()
    assert admin.post("/console/exports/clone/").status_code == 403
    assert host_client(tenant_a.host, tenant_a.member.user).post("/console/exports/clone/").status_code == 403
    assert host_client(tenant_a.host).post("/console/exports/clone/").status_code == 302  # sign in
    assert admin.get("/console/exports/clone/").status_code == 405
    assert Account.objects.count() == count
    assert not AuditEvent.objects.filter(action__startswith="account.clone").exists()
