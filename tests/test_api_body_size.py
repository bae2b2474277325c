"""An API request body beyond DATA_UPLOAD_MAX_MEMORY_SIZE is a JSON 413 in the API's error
shape; other pages keep their HTML answer."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings

from accounts.models import AccountContact, UserProfile
from tests.conftest import host_client

from .support.api_support import api_for, assert_error

TEN_MB = 10 * 1024 * 1024


def _big(payload: object) -> str:
    body = json.dumps({"pad": "a" * TEN_MB, "payload": payload})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return body


@pytest.mark.parametrize(("method", "path"), [
    ("post", "contacts/"), ("post", "users/batch/"), ("patch", "account/"), ("post", "workspaces/"),
])
def test_a_10_mb_api_body_is_a_json_413(tenant_a, method, path):
    api = api_for(tenant_a.admin)
    contacts = AccountContact.objects.count()
    response = getattr(api.client, method)(
        f"/api/v1/{path}", data=_big({"email": "big@alpha.test"}), content_type="application/json"
    )
    error = assert_error(response, 413, "payload_too_large")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]
    assert AccountContact.objects.count() == contacts  # nothing stored


def test_a_body_under_the_limit_is_still_parsed(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.post("contacts/", {"email": "small@alpha.test", "first_name": "x" * 100})
    assert response.status_code == 201, response.content


def test_an_oversized_console_post_keeps_its_html_answer(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    members = UserProfile.objects.count()
    form = urlencode({"email": "big@alpha.test", "role": "member", "pad": "a" * TEN_MB})
    response = client.post("/console/members/", data=form,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Bad request</h1>" in response.content.decode()
    assert UserProfile.objects.count() == members
