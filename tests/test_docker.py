"""The service image: build it, run it, drive ``POST /solve`` and a weights download.

Run alone with ``pytest -m docker tests/test_docker.py``. The image is built in the
background from the moment the suite is collected (``tests/image_build.py``, started by
``conftest.py``, which runs these tests last), after sourcing
``../shared/container/setup.sh`` (podman serving the Docker API on these machines); the
tests skip, saying why, only when that script fails. The first build takes several
minutes (pip inside the build, Numba compiled at build time); later builds reuse the
layer cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import httpx
import numpy as np
import pytest

from api.client import Client
from api.testing import free_port

import image_build

pytestmark = [pytest.mark.docker, pytest.mark.timeout(2400)]

IMAGE = image_build.IMAGE
KEY = "docker-test-key-0123456789"
KATSURA3 = """4
x0 + 2*x1 + 2*x2 + 2*x3 - 1;
x0^2 + 2*x1^2 + 2*x2^2 + 2*x3^2 - x0;
2*x0*x1 + 2*x1*x2 + 2*x2*x3 - x1;
x1^2 + 2*x0*x2 + 2*x1*x3 - x2;
"""
SPEC_121 = {
    "layers": [{"in_features": 1, "out_features": 2}, {"in_features": 2, "out_features": 1}],
    "data": {"x": [[-1.0], [-0.5], [0.0], [0.5], [1.0]], "y": [[1.0], [0.5], [0.0], [0.5], [1.0]]},
    "mode": "start",
}


@pytest.fixture(scope="module")
def build() -> image_build.Outcome:
    """The image, built in the background since the suite was collected (conftest.py)."""
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on this machine")
    outcome = image_build.start().wait(timeout=2000)
    if outcome.setup_failed:
        pytest.skip(f"the container set-up script {image_build.SETUP} failed: {outcome.log.strip()[-500:]}")
    if outcome.status != 0:
        raise AssertionError(f"docker build failed ({outcome.status}):\n{outcome.log[-3000:]}")
    return outcome


@pytest.fixture(scope="module")
def docker_env(build) -> dict:
    """The environment in which ``docker`` reaches an engine (DOCKER_HOST from the script)."""
    env = dict(os.environ)
    if build.docker_host:
        env["DOCKER_HOST"] = build.docker_host
    return env


def _docker(env: dict, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def image(build) -> str:
    return IMAGE


@pytest.fixture(scope="module")
def container(docker_env, image):
    port = free_port()
    name = f"lps-test-{uuid.uuid4().hex[:8]}"
    _docker(docker_env, "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", "-e", f"LPS_API_KEYS={KEY}",
            "-e", "LPS_WORKERS=1", image)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, docker_env, name)
        yield {"name": name, "url": url}
    finally:
        _docker(docker_env, "rm", "-f", name, check=False)


def _wait_healthy(url: str, env: dict, name: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url + "/health", timeout=3)
            if r.status_code == 200 and r.json()["workers"]["ready"] >= 1:
                return r.json()
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    logs = _docker(env, "logs", name, check=False)
    raise AssertionError(f"the container never became healthy:\n{logs.stdout[-3000:]}\n{logs.stderr[-3000:]}")


def test_image_runs_the_service_with_phcpack_as_non_root(docker_env, container):
    health = httpx.get(container["url"] + "/health").json()
    assert health["auth"] is True
    assert health["backends"] == {"numba": True, "phc": True, "phcpy": True}
    uid = _docker(docker_env, "exec", container["name"], "id", "-u").stdout.strip()
    assert uid != "0"
    # torch stays out of the service image
    probe = _docker(docker_env, "exec", container["name"], "python", "-c",
                    "import importlib.util as u; print(u.find_spec('torch') is None)")
    assert probe.stdout.strip() == "True"
    volumes = _docker(docker_env, "image", "inspect", "--format", "{{json .Config.Volumes}}", IMAGE).stdout
    assert "/data" in volumes
    mounts = _docker(docker_env, "inspect", "--format", "{{json .Mounts}}", container["name"]).stdout
    assert '"/data"' in mounts  # the data folder is a volume in the running container
    assert httpx.get(container["url"] + "/metrics").status_code == 401


def test_solve_and_weights_through_the_client(docker_env, container):
    with Client(container["url"], api_key=KEY, retries=10, backoff=0.5) as c:
        job = c.solve_system(KATSURA3, progress=False, timeout=300)
        assert len(job["result"]["solutions"]) == 8
        for s in job["result"]["solutions"]:
            x0, x1, x2, x3 = np.array(s["re"]) + 1j * np.array(s["im"])
            assert abs(x0 + 2 * x1 + 2 * x2 + 2 * x3 - 1) < 1e-9
            assert abs(x1**2 + 2 * x0 * x2 + 2 * x1 * x3 - x2) < 1e-9

        net = c.solve(SPEC_121, progress=False, timeout=300)
        assert net["result"]["mode"] == "start"
        tensors = c.weights(net["id"], framework="numpy")
        inline = net["result"]["candidates"][0]["weights"]
        assert set(tensors) == set(inline)
        for name, arr in tensors.items():
            np.testing.assert_allclose(arr, np.asarray(inline[name]), rtol=1e-6, atol=1e-7)
        assert c.solve(SPEC_121, progress=False)["cached"] is True

    # the database lives in the volume: a restarted container still has the job
    _docker(docker_env, "restart", "-t", "15", container["name"], timeout=120)
    _wait_healthy(container["url"], docker_env, container["name"])
    with Client(container["url"], api_key=KEY, retries=10, backoff=0.5) as c:
        assert c.job(net["id"])["status"] == "done"
        assert c.solve(SPEC_121, progress=False)["cached"] is True
