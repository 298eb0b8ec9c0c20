"""The HTTP service end to end: a real uvicorn server on a free loopback port.

One module-wide server (API keys and small limits) serves the flow, auth, limit and
concurrency tests; the restart test runs its own servers on one data folder. Systems are
small (katsura-3: 8 paths; cyclic-6: 622 paths, a few seconds, for jobs that must still be
running when they are cancelled or the server is killed).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import threading
import time

import httpx
import numpy as np
import pytest

from api.client import AuthError, Client, Conflict, InvalidRequest, JobFailed, LimitExceeded, NotFound, ServiceUnavailable
from api.testing import ServiceProcess, free_port
from solver.engine.formats.phc import format_system

pytestmark = pytest.mark.timeout(300)

KEY_A, KEY_B = "alpha-0123456789", "beta-9876543210"
LIMITS = {
    "LPS_MAX_BODY_BYTES": 65536,
    "LPS_MAX_ROWS": 50,
    "LPS_MAX_FEATURES": 4,
    "LPS_MAX_WIDTH": 8,
    "LPS_MAX_LAYERS": 4,
    "LPS_MAX_PATHS": 5000,
    "LPS_MAX_VARIABLES": 12,
    "LPS_MAX_JOBS_PER_KEY": 3,
    # the request rate limit has tests of its own (test_service_hardening.py); here it
    # would only cap how hard the concurrency test can push
    "LPS_RATE_LIMIT_PER_MINUTE": 1_000_000,
}

# katsura-3 written out by hand (not by the engine): 4 unknowns, 2^3 = 8 solutions
KATSURA3 = """4
x0 + 2*x1 + 2*x2 + 2*x3 - 1;
x0^2 + 2*x1^2 + 2*x2^2 + 2*x3^2 - x0;
2*x0*x1 + 2*x1*x2 + 2*x2*x3 - x1;
x1^2 + 2*x0*x2 + 2*x1*x3 - x2;
"""


def katsura3_residuals(x: np.ndarray) -> np.ndarray:
    x0, x1, x2, x3 = x
    return np.array([
        x0 + 2 * x1 + 2 * x2 + 2 * x3 - 1,
        x0**2 + 2 * x1**2 + 2 * x2**2 + 2 * x3**2 - x0,
        2 * x0 * x1 + 2 * x1 * x2 + 2 * x2 * x3 - x1,
        x1**2 + 2 * x0 * x2 + 2 * x1 * x3 - x2,
    ])


def cyclic6() -> str:
    """cyclic-6 (622 linear-product paths): long enough to cancel or kill mid-run."""
    from solver.engine.examples import cyclic

    return format_system(cyclic(6))


SPEC_121 = {
    "layers": [
        {"in_features": 1, "out_features": 2, "activation": "relu"},
        {"in_features": 2, "out_features": 1, "activation": "identity"},
    ],
    "data": {"x": [[-1.0], [-0.5], [0.0], [0.5], [1.0]], "y": [[1.0], [0.5], [0.0], [0.5], [1.0]]},
    "mode": "start",
    "seed": 3,
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = ServiceProcess(tmp_path_factory.mktemp("service"), env={"LPS_API_KEYS": f"{KEY_A},{KEY_B}", **LIMITS})
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture()
def client(service):
    with Client(service.url, api_key=KEY_A, retries=2, backoff=0.1, poll_interval=0.1) as c:
        yield c


def _wait_status(c: Client, job_id: str, statuses: tuple, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.job(job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


# ---------------------------------------------------------------------------------------
# health and auth
# ---------------------------------------------------------------------------------------
def test_health_is_open_and_reports_backends_and_limits(service):
    r = httpx.get(service.url + "/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["auth"] is True
    assert set(body["backends"]) >= {"numba", "phc", "phcpy"}
    assert body["workers"]["alive"] == 1
    assert body["limits"]["max_rows"] == 50 and body["limits"]["max_paths"] == 5000


# the documents are open since issue 10 (the docs page authorises with the key itself):
# tests/test_service_hardening.py::test_health_head_limits_and_docs_open
@pytest.mark.parametrize("path", ["/metrics", "/jobs/nope"])
def test_auth_no_key_wrong_key_right_key(service, path):
    none = httpx.get(service.url + path)
    assert none.status_code == 401
    assert "missing API key" in none.json()["reason"]
    assert none.headers["www-authenticate"] == "Bearer"
    wrong = httpx.get(service.url + path, headers={"Authorization": f"Bearer {KEY_A}x"})
    assert wrong.status_code == 401 and wrong.json()["reason"] == "wrong API key"
    basic = httpx.get(service.url + path, headers={"Authorization": f"Basic {KEY_A}"})
    assert basic.status_code == 401
    for key in (KEY_A, KEY_B):
        right = httpx.get(service.url + path, headers={"Authorization": f"Bearer {key}"})
        assert right.status_code == (404 if path.startswith("/jobs") else 200)


def test_client_raises_auth_error_with_reason(service):
    with Client(service.url, api_key="not-a-key", retries=0) as c:
        with pytest.raises(AuthError) as e:
            c.solve_system(KATSURA3)
    assert e.value.status == 401 and e.value.reason == "wrong API key"


# ---------------------------------------------------------------------------------------
# the full flow through the client
# ---------------------------------------------------------------------------------------
def test_system_solve_result_and_cache_hit(client):
    job = client.solve_system(KATSURA3, seed=7, progress=False)
    assert job["status"] == "done" and job["cached"] is False and job["kind"] == "system"
    res = job["result"]
    assert res["variables"] == ["x0", "x1", "x2", "x3"]
    assert len(res["solutions"]) == 8 and res["counts"]["failed"] == 0
    for s in res["solutions"]:
        x = np.array(s["re"]) + 1j * np.array(s["im"])
        assert np.abs(katsura3_residuals(x)).max() < 1e-9  # our own evaluation, not the engine's
    assert job["progress"] == {"done": res["paths"], "total": res["paths"], "unit": "paths"}

    # the in-process solver on the same text finds the same solutions
    from solver.engine.formats.phc import parse_system
    from solver.engine.solve import solve

    local = solve(parse_system(KATSURA3), seed=7)
    ours = sorted(tuple(np.round(s["re"], 8)) + tuple(np.round(s["im"], 8)) for s in res["solutions"])
    theirs = sorted(tuple(np.round(s.values.real, 8)) + tuple(np.round(s.values.imag, 8)) for s in local.solutions)
    assert ours == theirs

    again = client.solve_system(KATSURA3, seed=7, progress=False)
    assert again["cached"] is True and again["id"] == job["id"]
    assert again["result"] == res
    # another key gets the same cached answer; field order and spacing of the text do not matter
    with Client(client.url, api_key=KEY_B) as other:
        spaced = "4\n" + "\n".join("  " + line.replace(" ", "  ") for line in KATSURA3.splitlines()[1:]) + "\n"
        hit = other.solve_system(spaced, seed=7, progress=False)
    assert hit["cached"] is True and hit["result"] == res


def test_spec_solve_weights_and_cache(client):
    first = client.solve(SPEC_121, progress=False)
    assert first["status"] == "done" and first["kind"] == "network"
    res = first["result"]
    assert res["mode"] == "start" and res["candidates"]
    inline = res["candidates"][0]["weights"]
    assert np.asarray(inline["0.weight"]).shape == (2, 1) and np.asarray(inline["1.weight"]).shape == (1, 2)

    # the same spec with its fields in another order and defaults spelled out: a cache hit
    reordered = {"seed": 3, "mode": "start", "data": SPEC_121["data"], "weight_decay": 0.01,
                 "layers": [dict(reversed(list(l.items()))) for l in SPEC_121["layers"]]}
    hit = client.solve(reordered, progress=False)
    assert hit["cached"] is True and hit["id"] == first["id"] and hit["result"] == res

    tensors = client.weights(first["id"], candidate=0, framework="numpy")
    assert set(tensors) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    for name, arr in tensors.items():
        assert arr.dtype == np.float32
        np.testing.assert_allclose(arr, np.asarray(inline[name]), rtol=1e-6, atol=1e-7)
    t64 = client.weights(first["id"], candidate=0, framework="numpy", dtype="float64")
    for name, arr in t64.items():
        np.testing.assert_array_equal(arr, np.asarray(inline[name]))

    # the in-process solver gives the same weights for the same spec
    from solver.init.modes import run_spec

    local = run_spec(SPEC_121)["weights"]
    for name, arr in local.items():
        np.testing.assert_allclose(t64[name], np.asarray(arr), rtol=1e-12, atol=1e-12)

    with pytest.raises(NotFound) as e:
        client.weights(first["id"], candidate=len(res["candidates"]))
    assert "does not exist" in e.value.reason


def test_exact_mode_1_1_1_candidates_match_in_process_critical_points(client):
    # 1-1-1 exact mode: 33 paths from its shipped family; every candidate's weights are its critical point's params
    spec = {**SPEC_121, "layers": [{"in_features": 1, "out_features": 1}, {"in_features": 1, "out_features": 1}],
            "mode": "exact", "candidates": 2}
    job = client.solve(spec, progress=False, timeout=240)
    res = job["result"]
    assert res["mode"] == "exact"
    assert job["progress"]["unit"] == "paths" and job["progress"]["done"] == job["progress"]["total"] == 33
    from solver.networks.critical_points import run_exact
    from solver.networks.spec import NetworkSpec

    local = run_exact(NetworkSpec.model_validate(spec)).to_json()
    assert len(res["candidates"]) == len(local["candidates"]) >= 1
    for ours, theirs in zip(res["candidates"], local["candidates"]):
        np.testing.assert_allclose(ours["params"], theirs["params"], rtol=1e-8, atol=1e-10)
        w = ours["weights"]
        flat = np.concatenate([np.ravel(w["0.weight"]), w["0.bias"], np.ravel(w["1.weight"]), w["1.bias"]])
        np.testing.assert_array_equal(flat, ours["params"])
        assert ours["grad_norm"] < 1e-8
    served = client.weights(job["id"], candidate=1, framework="numpy", dtype="float64")
    np.testing.assert_array_equal(served["0.weight"], np.asarray(res["candidates"][1]["weights"]["0.weight"]))


def test_layerwise_spec_progress_in_layers_matches_in_process(client):
    spec = {**SPEC_121, "mode": "layerwise", "seed": 4}
    job = client.solve(spec, progress=False, timeout=120)
    res = job["result"]
    assert res["mode"] == "layerwise" and len(res["candidates"]) == 1
    assert job["progress"] == {"done": 2, "total": 2, "unit": "layers"}
    from solver.init.modes import run_spec

    local = run_spec(spec)
    assert local["mode"] == "layerwise"
    for name, arr in local["weights"].items():
        np.testing.assert_allclose(res["candidates"][0]["weights"][name], arr, rtol=1e-9, atol=1e-12)


def test_weights_of_a_system_job_is_a_conflict(client):
    job = client.solve_system(KATSURA3, seed=7, progress=False)
    with pytest.raises(Conflict) as e:
        client.weights(job["id"])
    assert "only layer-spec jobs have weights" in e.value.reason


def test_progress_then_cancel_a_running_job(client):
    r = client.http.post("/systems/solve", params={"wait": 0}, json={"system": cyclic6(), "seed": 101})
    assert r.status_code == 202 and r.headers["location"] == f"/jobs/{r.json()['id']}"
    job_id = r.json()["id"]
    assert r.json()["progress"]["total"] == 622 and r.json()["progress"]["unit"] == "paths"
    running = _wait_status(client, job_id, ("running", "done"))
    assert running["status"] == "running", "the job finished before it could be cancelled"
    assert running["attempts"] == 1
    cancelled = client.cancel(job_id)
    assert cancelled["status"] == "cancelled" and cancelled["error"]["reason"] == "cancelled by request"
    assert client.job(job_id)["status"] == "cancelled"
    with pytest.raises(Conflict) as e:
        client.cancel(job_id)
    assert "already cancelled" in e.value.reason
    with pytest.raises(JobFailed):
        client.wait(job_id, progress=False)
    # the pool recovers (the worker is replaced if it did not stop by itself)
    after = client.solve_system(KATSURA3, seed=8, progress=False, timeout=60)
    assert after["status"] == "done" and len(after["result"]["solutions"]) == 8
    # only the owner may cancel: another key's job is 404, as an unknown id
    r = client.http.post("/systems/solve", params={"wait": 0}, json={"system": cyclic6(), "seed": 102})
    with Client(client.url, api_key=KEY_B) as other:
        with pytest.raises(NotFound) as e:
            other.cancel(r.json()["id"])
        assert e.value.status == 404
    assert client.cancel(r.json()["id"])["status"] == "cancelled"


def test_unknown_job_is_404(client):
    with pytest.raises(NotFound) as e:
        client.job("0" * 32)
    assert "no job with id" in e.value.reason


# ---------------------------------------------------------------------------------------
# invalid input and limits
# ---------------------------------------------------------------------------------------
def _post(service, path, key=KEY_A, headers=None, **kw):
    return httpx.post(service.url + path, headers={"Authorization": f"Bearer {key}", **(headers or {})}, timeout=30, **kw)


def test_invalid_spec_is_422_with_field_and_reason(service):
    bad = {**SPEC_121, "layers": [{"in_features": 1, "out_features": 2}, {"in_features": 3, "out_features": 1}]}
    r = _post(service, "/solve", json=bad)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert {"field": "layers[1].in_features", "type": "shape_chain"}.items() <= detail[0].items()
    assert "must chain" in detail[0]["reason"]
    for body, field in [
        ({**SPEC_121, "surrogate": {"degree": 12}}, "surrogate.degree"),
        ({**SPEC_121, "weight_decay": 0, "mode": "exact"}, "weight_decay"),
        ({**SPEC_121, "data": {"x": [], "y": []}}, "data.x"),
        ({**SPEC_121, "mode": "fastest"}, "mode"),
        ({"layers": SPEC_121["layers"]}, "data"),
    ]:
        r = _post(service, "/solve", json=body)
        assert r.status_code == 422, body
        assert field in [d["field"] for d in r.json()["detail"]], r.json()
    # not JSON at all, and non-finite numbers
    r = _post(service, "/solve", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = _post(service, "/solve", content=json.dumps({**SPEC_121, "weight_decay": float("nan")}).encode(),
              headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_invalid_system_is_422_with_line_and_column(service):
    r = _post(service, "/systems/solve", json={"system": "2\nx^2 + y;\nx + ;\n"})
    assert r.status_code == 422
    d = r.json()["detail"][0]
    assert d["field"] == "system" and d["line"] == 3 and d["column"] == 5
    r = _post(service, "/systems/solve", json={"system": "2\nx^2 + y - 1;\n"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "system"


def test_body_size_limit_is_413(service):
    big = {**SPEC_121, "data": {"x": [[0.5]] * 20000, "y": [[0.5]] * 20000}}
    r = _post(service, "/solve", json=big)
    assert r.status_code == 413
    assert r.json()["limit"] == "max_body_bytes" and r.json()["max"] == 65536
    assert "65536" in r.json()["reason"]

    def chunks():  # no Content-Length: the limit holds while streaming
        for _ in range(100):
            yield b" " * 1024

    r = _post(service, "/solve", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["limit"] == "max_body_bytes"


@pytest.mark.parametrize(
    "change, limit, value",
    [
        ({"data": {"x": [[0.1]] * 51, "y": [[0.1]] * 51}}, "max_rows", 51),
        ({"layers": [{"in_features": 5, "out_features": 2}, {"in_features": 2, "out_features": 1}],
          "data": {"x": [[0.1] * 5] * 3, "y": [[0.1]] * 3}}, "max_features", 5),
        ({"layers": [{"in_features": 1, "out_features": 9}, {"in_features": 9, "out_features": 1}]}, "max_width", 9),
        ({"layers": [{"in_features": 1, "out_features": 1}] * 5}, "max_layers", 5),
        ({"max_paths": 10_000}, "max_paths", 10_000),
    ],
)
def test_spec_limits_are_422_with_the_limit(service, change, limit, value):
    r = _post(service, "/solve", json={**SPEC_121, **change})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "limit_exceeded" and body["limit"] == limit and body["value"] == value
    assert body["max"] == LIMITS["LPS_" + limit.upper()]


def test_exact_mode_path_limit_is_422_with_the_count(service):
    """1-3-1's family ships (3,585 generic solutions): a max_paths below that is refused
    naming it. 1-4-1 has no family, and its one-time solve would start from a
    linear-product system far beyond family_max_paths (1-3-1's alone has 1,129,797 paths):
    refused naming both limits, with a lower bound from the bounded count."""
    from solver.networks.spec import NetworkSpec
    from solver.networks.structure import lps_count, network_set_structure

    def layers(width):
        return [{"in_features": 1, "out_features": width}, {"in_features": width, "out_features": 1}]

    r = _post(service, "/solve", json={**SPEC_121, "mode": "exact", "max_paths": 1000, "layers": layers(3)})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "limit_exceeded" and body["limit"] == "max_paths" and body["max_paths"] == 1000
    assert "3585" in body["reason"] and "1-3-1" in body["reason"] and "start" in body["suggestion"]

    spec = {**SPEC_121, "mode": "exact", "layers": layers(4)}
    r = _post(service, "/solve", json=spec)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "limit_exceeded" and body["max_paths"] == 5000
    assert "family_max_paths=" in body["reason"] and "max_paths=5000" in body["reason"] and "start" in body["suggestion"]
    full = lps_count(network_set_structure(NetworkSpec.model_validate(spec)))
    assert 5000 < body["paths_at_least"] <= full
    assert full > lps_count(network_set_structure(NetworkSpec.model_validate({**spec, "layers": layers(3)}))) == 1_129_797


def test_system_path_and_variable_limits_are_422_with_counts(service):
    # x_i^3 = 1 for 8 unknowns: 3^8 = 6561 paths (total degree = linear product), > 5000
    text = "8\n" + "".join(f"x{i}^3 - 1;\n" for i in range(8))
    r = _post(service, "/systems/solve", json={"system": text})
    assert r.status_code == 422
    body = r.json()
    assert body["limit"] == "max_paths" and body["paths"] == 3**8 and body["max_paths"] == 5000
    assert body["root_counts"]["total_degree"] == 3**8
    r = _post(service, "/systems/solve", json={"system": KATSURA3, "max_paths": 6000})
    assert r.status_code == 422 and r.json()["limit"] == "max_paths" and r.json()["max"] == 5000
    text = "13\n" + "".join(f"x{i} - {i};\n" for i in range(13))
    r = _post(service, "/systems/solve", json={"system": text})
    assert r.status_code == 422 and r.json()["limit"] == "max_variables" and r.json()["value"] == 13


def test_jobs_in_flight_per_key_is_429(service):
    from solver.engine.examples import cyclic

    # cyclic-7 (4,673 paths) keeps the one worker busy for the whole test, so the three
    # jobs stay in flight; they are cancelled at the end
    slow = format_system(cyclic(7))
    ids = []
    try:
        for seed in (201, 202, 203):
            r = _post(service, "/systems/solve", key=KEY_B, params={"wait": 0}, json={"system": slow, "seed": seed})
            assert r.status_code == 202
            ids.append(r.json()["id"])
        # resubmitting an identical spec attaches to its job instead of counting again
        r = _post(service, "/systems/solve", key=KEY_B, params={"wait": 0}, json={"system": slow, "seed": 203})
        assert r.status_code == 202 and r.json()["id"] == ids[-1]
        r = _post(service, "/systems/solve", key=KEY_B, params={"wait": 0}, json={"system": slow, "seed": 204})
        assert r.status_code == 429
        body = r.json()
        assert body["limit"] == "max_jobs_per_key" and body["value"] == 3 and body["max"] == 3
        assert r.headers["retry-after"]
        with Client(service.url, api_key=KEY_B, retries=0) as c:
            with pytest.raises(LimitExceeded) as e:
                c.solve_system(slow, seed=205, wait=False)
            assert e.value.status == 429 and "limit is 3" in e.value.reason
        # another key is not limited by this one
        r = _post(service, "/systems/solve", key=KEY_A, params={"wait": 0}, json={"system": KATSURA3, "seed": 99})
        assert r.status_code in (200, 202)
        statuses = [httpx.get(f"{service.url}/jobs/{i}", headers={"Authorization": f"Bearer {KEY_B}"}).json()["status"]
                    for i in ids]
        assert set(statuses) <= {"queued", "running"}, statuses
    finally:
        for job_id in ids:
            httpx.delete(f"{service.url}/jobs/{job_id}", headers={"Authorization": f"Bearer {KEY_B}"})


# ---------------------------------------------------------------------------------------
# torch through the service
# ---------------------------------------------------------------------------------------
def test_client_init_loads_the_served_weights_into_a_torch_model(client):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    x = torch.tensor(SPEC_121["data"]["x"])
    y = torch.tensor(SPEC_121["data"]["y"])
    report = client.init_(model, x, y, mode="start", seed=3, progress=False)
    assert report["mode"] == "start" and "weights" not in json.dumps(report["candidates"])
    served = client.weights(report["job_id"], framework="torch")
    assert torch.equal(model[0].weight.data, served["0.weight"])
    assert torch.equal(model[2].bias.data, served["1.bias"])
    with pytest.raises(ValueError, match="Conv1d"):
        client.init_(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)), x, y)


def test_init_without_url_falls_back_to_the_in_process_solver(monkeypatch):
    torch = pytest.importorskip("torch")
    from api.client import init_

    monkeypatch.delenv("LPS_URL", raising=False)
    model = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    before = model[0].weight.detach().clone()
    x = torch.tensor(SPEC_121["data"]["x"])
    y = torch.tensor(SPEC_121["data"]["y"])
    report = init_(model, x, y, mode="start", seed=3)
    assert report["mode"] == "start" and "job_id" not in report
    assert not torch.equal(before, model[0].weight.detach())


def test_client_without_server_raises_after_retries():
    port = free_port()
    t0 = time.monotonic()
    with Client(f"http://127.0.0.1:{port}", retries=3, backoff=0.05) as c:
        with pytest.raises(ServiceUnavailable) as e:
            c.health()
    assert "after 4 attempts" in e.value.reason
    assert time.monotonic() - t0 < 5


# ---------------------------------------------------------------------------------------
# concurrency and metrics
# ---------------------------------------------------------------------------------------
def test_twenty_concurrent_clients(service, client):
    ref_sys = client.solve_system(KATSURA3, seed=7, progress=False)
    ref_spec = client.solve(SPEC_121, progress=False)
    ref_weights = client.weights_bytes(ref_spec["id"])
    stop_at = time.monotonic() + 6.0
    errors: list[str] = []
    counts = [0] * 20
    lock = threading.Lock()

    def worker(k: int) -> None:
        key = KEY_A if k % 2 else KEY_B
        with Client(service.url, api_key=key, retries=0, timeout=20) as c:
            while time.monotonic() < stop_at:
                try:
                    # each key reads its own jobs (another key's are 404 since issue 10); the
                    # second key's cache hits are jobs of its own with the same result
                    j_sys = c.solve_system(KATSURA3, seed=7, progress=False)
                    checks = {"system cached": j_sys["cached"] and j_sys["result"] == ref_sys["result"]}
                    j_spec = c.solve(SPEC_121, progress=False)
                    checks["spec cached"] = j_spec["cached"] and j_spec["result"] == ref_spec["result"]
                    checks["job done"] = c.job(j_sys["id"])["status"] == "done"
                    checks["health"] = c.health()["status"] == "ok"
                    checks["weights"] = c.weights_bytes(j_spec["id"]) == ref_weights
                    wrong = [name for name, ok in checks.items() if not ok]
                    if wrong:
                        with lock:
                            errors.append(f"client {k}: wrong answer from {wrong}")
                except Exception as exc:  # any error (a 5xx included) is a failure of this test
                    with lock:
                        errors.append(f"client {k}: {exc!r}")
                counts[k] += 5

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(20) as pool:
        list(pool.map(worker, range(20)))
    elapsed = time.monotonic() - t0
    assert not errors, errors[:5]
    assert all(n >= 5 for n in counts), counts
    assert elapsed < 30


def test_metrics_count_requests_jobs_paths_and_cache_hits(service, client):
    client.solve_system(KATSURA3, seed=7, progress=False)  # at least one cache hit
    text = client.metrics()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, v = line.rpartition(" ")
            values[name] = float(v)
    assert values["lps_cache_hits_total"] >= 1
    assert values['lps_jobs{state="done"}'] >= 2
    assert values["lps_paths_tracked_total"] >= 8
    assert values['lps_workers{state="alive"}'] == 1
    assert any(k.startswith('lps_http_requests_total{method="POST",route="/systems/solve",status="200"}') for k in values)
    assert any('route="/health"' in k for k in values)


# ---------------------------------------------------------------------------------------
# restarts
# ---------------------------------------------------------------------------------------
def test_restart_mid_job_loses_nothing(tmp_path):
    svc = ServiceProcess(tmp_path / "data", env={"LPS_MAX_JOBS_PER_KEY": 10})
    svc.start()
    try:
        with Client(svc.url, retries=12, backoff=0.2, poll_interval=0.1) as c:
            long = c.solve_system(cyclic6(), seed=301, wait=False)
            queued = [c.solve_system(KATSURA3, seed=s, wait=False) for s in (302, 303)]
            running = _wait_status(c, long["id"], ("running", "done"))
            assert running["status"] == "running"
            assert all(c.job(q["id"])["status"] == "queued" for q in queued)

            # a client waiting across the restart: it retries through the outage
            waited: dict = {}
            waiter = threading.Thread(target=lambda: waited.update(c.wait(queued[-1]["id"], progress=False)))
            waiter.start()
            svc.restart(kill=True)  # SIGKILL: nothing graceful happens
            waiter.join(120)
            assert waited.get("status") == "done"

            final = {j["id"]: c.wait(j["id"], progress=False, timeout=120) for j in [long, *queued]}
            assert final[long["id"]]["attempts"] == 2
            assert "re-queued after a server restart" in final[long["id"]]["note"]
            assert len(final[long["id"]]["result"]["solutions"]) == 156  # cyclic-6 has 156
            for q in queued:
                assert final[q["id"]]["attempts"] == 1
                assert len(final[q["id"]]["result"]["solutions"]) == 8

            # restart policy "fail": the interrupted job is failed with the reason
            other = c.solve_system(cyclic6(), seed=304, wait=False)
            assert _wait_status(c, other["id"], ("running", "done"))["status"] == "running"
            svc.restart(kill=True, env={"LPS_RESTART_RUNNING": "fail"})
            failed = c.job(other["id"])
            assert failed["status"] == "failed"
            assert "restarted while the job was running" in failed["error"]["reason"]
            with pytest.raises(JobFailed) as e:
                c.wait(other["id"], progress=False)
            assert "restarted" in e.value.reason
            # earlier results are still served from the database
            assert c.job(long["id"])["status"] == "done"
            assert c.solve_system(cyclic6(), seed=301, progress=False)["cached"] is True
    finally:
        svc.stop()
