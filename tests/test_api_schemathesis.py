"""Schemathesis's engine, every check on, against the OpenAPI schema the app serves.

The schema is fetched from ``/api/v1/schema/`` of a tenant host on the live test server (over
HTTP: the engine's WSGI transport sends every request to ``localhost`` and breaks on
re-sent requests), then the
engine runs as ``st run --checks all`` would: explicit examples, the coverage phase (boundary
values, missing and unexpected parameters, undeclared methods), fuzzing (schema-conforming and
schema-violating data) and stateful sequences (create, then read, update and delete what was
created), with a bounded number of examples per operation. Requests carry an account admin's
key on that tenant's host. Every check must pass for every operation, except the few checks
named in ``EXCLUDED`` for the reason written there.

The engine and the server run in threads of their own: the test commits its data (a
transactional test) and state carries over from one request to the next, as against a running
server. Run-time: ~4-5 minutes on the embedded database (the coverage phase's ~2,000 requests).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import phonenumbers
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi.formats import unregister_string_format

from accounts.models import ApiKey, UserProfile
from api.schema import PHONE_FORMAT
from domains.models import Domain
from tenancy import wall
from tests.support.api_support import make_key
from tests.support.dns_server import dns_zone  # noqa: F401 - fixture
from workspaces.models import Workspace

MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", 3))  # per operation, per phase that generates
MAX_STEPS = 20  # of the stateful phase
# Fixed examples by default (a stable suite); API_FUZZ_RANDOM=1 explores new ones each run.
SEED = None if os.environ.get("API_FUZZ_RANDOM") else 20261207

# Checks that cannot pass for one operation, with the reason. Everything else runs everywhere.
EXCLUDED: list[dict[str, Any]] = [
    # DELETE of an invitation or a key revokes it: the row stays, readable with its status
    # (revoked_at), as the audit trail and the admin's list need; GET then answers 200, not 404.
    {"include-path": ["/api/v1/invitations/{id}/", "/api/v1/api-keys/{id}/"], "include-method": "GET",
     "checks": {"use_after_free": {"enabled": False}}},
    # POST /users/ answers the invitation it sent (a member exists only once it is accepted):
    # its id is an invitation's, so GET /users/{id}/ of it is rightly a 404.
    {"include-path": "/api/v1/users/{id}/", "include-method": "GET",
     "checks": {"ensure_resource_availability": {"enabled": False}}},
    # POST /api-keys/'s owner is a member's id: a schema-valid id that is no active member of
    # the account is rightly a 400 (the schema cannot list the ids that exist).
    {"include-path": "/api/v1/api-keys/", "include-method": "POST",
     "checks": {"positive_data_acceptance": {"enabled": False}}},
    # A domain's workspace is a workspace of the account by its name, and an account has at
    # most CUSTOM_DOMAIN_MAX_PENDING domains pending: a schema-valid name no workspace has, or
    # one domain too many, is rightly a 400 (the schema cannot list the names that exist).
    # The hostname's rules, the platform's own names included, are in the schema.
    {"include-path": ["/api/v1/domains/", "/api/v1/domains/{id}/"], "include-method": ["POST", "PATCH"],
     "checks": {"positive_data_acceptance": {"enabled": False}}},
]

pytestmark = pytest.mark.django_db(transaction=True)


def _config(base_url: str, host: str, auth: dict[str, str]) -> SchemathesisConfig:
    """``st run --checks all`` with bounded examples, as a config the engine reads."""
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "base-url": base_url,
        "headers": {**auth, "Host": host},
        "workers": 1,
        "checks": {"enabled": True},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": SEED is not None},
        "phases": {"stateful": {"max-steps": MAX_STEPS}},
        "operations": EXCLUDED,
    } | ({} if SEED is not None else {"seed": None}))


def _phone_numbers() -> st.SearchStrategy[str]:
    """What ``format: phone`` means (api.schema): a local number, or libphonenumber's example
    number of a region in international form."""
    international = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number(region)
        if number is not None:
            international.append(
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    local = st.from_regex(r"[0-9][0-9 ()./-]{0,20}(?: ext\. [0-9]{1,4})?", fullmatch=True)
    return st.one_of(st.sampled_from(international), local)


def _keep_admin_key(key: ApiKey, admin: UserProfile) -> None:
    """Before each request: the fuzzer's own key stays usable. Revoking it, or demoting or
    deactivating its owner, are legitimate requests the fuzzer sends; undoing them keeps
    the rest of the run meaningful (not a run of 401s and 403s)."""
    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        with wall.platform_mode("schemathesis restores its key"):
            ApiKey.objects.filter(pk=key.pk).update(is_active=True, revoked_at=None)
            UserProfile.objects.filter(pk=admin.pk).update(role=UserProfile.ROLE_ADMIN, is_active=True)


def test_every_check_passes_for_every_operation(tenant_a, tenant_b, settings, dns_zone, live_server):  # noqa: F811
    settings.API_RATE_LIMIT = "1000000/minute"  # one key sends every example
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "send_invitation": False}
    Domain(user_profile=tenant_a.admin, hostname="app.alpha-corp.test").save()  # verifiable: dns_zone
    Workspace.objects.create(user_profile=tenant_a.admin, name="team")
    key, raw = make_key(tenant_a.admin, name="schemathesis")
    base_url = live_server.url
    auth = {"Authorization": f"Token {raw}"}

    # The server thread keeps its connection across requests (on the embedded database the
    # test's own, shared: a request must not close it).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schemathesis.openapi.format(PHONE_FORMAT, _phone_numbers())
    try:
        schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/schema/?format=json",
                                               headers={"Host": tenant_a.host},
                                               config=_config(base_url, tenant_a.host, auth))
        _keep_admin_key(key, tenant_a.admin)
        result = _run(schema)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        schemathesis.hooks.unregister_all()
        unregister_string_format(PHONE_FORMAT)

    print(f"schemathesis: {result}")  # noqa: T201 - shown with -s / on failure
    assert result["errors"] == [], "\n\n".join(result["errors"])
    assert result["failures"] == [], "\n\n".join(result["failures"])
    assert result["operations"] == 40
    assert result["stop"] == "completed"
    statuses = result["statuses"]
    assert not [s for s in statuses if s >= 500]
    # The run reached real objects and real writes, not only 401s and 404s.
    for status in (200, 201, 202, 204, 400, 404, 405):
        assert statuses.get(status, 0) > 0, status
    assert result["phases"]["stateful"] > 0


def _run(schema: Any) -> dict[str, Any]:
    """Run every phase; gather statuses, failures (one line per distinct failure) and errors."""
    statuses: Counter[int] = Counter()
    phases: Counter[str] = Counter()
    failures: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    operations: set[str] = set()
    stop = None
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            phases[str(event.phase.value)] += len(event.recorder.interactions)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for case_id, checks in event.recorder.checks.items():
                case = event.recorder.cases[case_id].value
                operations.add(case.operation.label)
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.setdefault(
                            (check.name, case.operation.label),
                            f"[{check.name}] {case.operation.label} ({event.phase.value}): "
                            f"{failure.title}: {failure.message[:500]}\n"
                            f"  {check.failure_info.code_sample[:600]}")
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()[:800]}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            stop = str(event.stop_reason.value)
    return {"operations": len(operations), "stop": stop, "statuses": dict(sorted(statuses.items())),
            "phases": dict(phases), "failures": sorted(failures.values()), "errors": errors}
