"""The site answers on every host kind."""

from tests.conftest import host_client


def test_platform_and_tenant_homes(platform, tenant_a):
    assert host_client("localhost").get("/").status_code == 200
    response = host_client(tenant_a.host).get("/")
    assert response.status_code == 200
    assert tenant_a.account.company_name in response.content.decode()


def test_healthz_reports_database_and_cache(db):
    response = host_client("localhost").get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health.pop("push") in {"off", "ok", "unavailable"}  # off on the embedded default
    assert health.pop("cache_circuit", {"state": "closed"}) == {"state": "closed"}  # Redis only
    assert health == {"database": "ok", "cache": "ok", "worker": "in-process", "status": "ok"}
