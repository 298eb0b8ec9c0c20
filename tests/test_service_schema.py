"""Schemathesis against the running service's ``/openapi.json``: no 5xx, whatever the input.

Bounded: a fixed number of generated cases per operation (a few hundred in all), with the
service's limits set low so that any valid request it accepts is cheap to run.
"""

from __future__ import annotations

import time

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the 'test' extra")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from api.testing import ServiceProcess  # noqa: E402

pytestmark = pytest.mark.timeout(300)

KEY = "schema-key-0123456789"
CASES_PER_OPERATION = 50


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = ServiceProcess(
        tmp_path_factory.mktemp("schema"),
        env={
            "LPS_API_KEYS": KEY,
            "LPS_MAX_ROWS": 20,
            "LPS_MAX_WIDTH": 4,
            "LPS_MAX_FEATURES": 3,
            "LPS_MAX_LAYERS": 3,
            "LPS_MAX_PATHS": 200,
            "LPS_MAX_VARIABLES": 4,
            "LPS_MAX_JOBS_PER_KEY": 2,
            "LPS_MAX_WAIT_SECONDS": 0.2,
            "LPS_JOB_TIMEOUT": 5,
        },
    )
    svc.start()
    yield svc
    svc.stop()


def test_no_server_errors_on_generated_requests(service):
    auth = {"Authorization": f"Bearer {KEY}"}
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json", headers=auth, timeout=10)
    operations = [r.ok() for r in schema.get_all_operations()]
    labels = sorted(op.label for op in operations)
    assert labels == sorted([
        "POST /solve", "POST /systems/solve", "GET /jobs/{job_id}", "GET /jobs/{job_id}/weights",
        "DELETE /jobs/{job_id}", "GET /health", "GET /metrics",
        "GET /jobs", "GET /jobs/{job_id}/request", "GET /jobs/{job_id}/surrogates", "GET /families",
    ])
    seen: dict[str, dict[int, int]] = {}
    t0 = time.monotonic()
    for op in operations:
        statuses = seen.setdefault(op.label, {})

        @settings(max_examples=CASES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case) -> None:
            response = case.call(base_url=service.url, headers=auth, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (
                f"{op.label} answered {response.status_code}: {response.text[:500]}\n{case.as_curl_command()}"
            )
            if response.status_code >= 400:  # every refusal says why, in the same shape
                body = response.json()
                assert body["error"] and body["reason"], body
                if response.status_code == 422:
                    assert "limit" in body or all(d["field"] is not None and d["reason"] for d in body["detail"]), body

        run()
    total = sum(sum(s.values()) for s in seen.values())
    assert total >= 250, seen
    assert time.monotonic() - t0 < 240
    assert set(seen["GET /health"]) == {200}
    # and the service is still healthy afterwards
    import httpx

    assert httpx.get(service.url + "/health").json()["workers"]["alive"] == 1
