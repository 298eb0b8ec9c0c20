"""The Dask executor against a real cluster on loopback: ``dask scheduler`` and two
``dask worker`` processes (one thread each) started as subprocesses.

The oracle is the local executor: the kernel is deterministic per path, so the cluster's
endpoints, solutions and counts are the local ones; a worker SIGKILLed mid-solve costs no
path; an unreachable scheduler is one clear line; the service with ``LPS_DASK_SCHEDULER``
answers a system solve through the cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import Client, get_task_stream  # noqa: E402

from api.testing import ServiceProcess, free_port  # noqa: E402
from solver.engine.examples import katsura  # noqa: E402
from solver.engine.executors import ClusterError, LocalExecutor, using  # noqa: E402
from solver.engine.formats.phc import format_system  # noqa: E402
from solver.engine.homotopy import homotopy_data  # noqa: E402
from solver.engine.options import TrackerOptions  # noqa: E402
from solver.engine.solve import solve, track  # noqa: E402
from solver.engine.start_systems.choice import choose_start  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _dask(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], env=_env(), cwd=str(ROOT),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _start_worker(address: str, tmp: Path, name: str) -> subprocess.Popen:
    return _dask(["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                  "--name", name, "--local-directory", str(tmp / name)], tmp / f"{name}.log")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(address, client, workers)``: a scheduler and two one-thread workers on loopback."""
    tmp = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    procs = [_dask(["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
                   tmp / "scheduler.log")]
    workers = [_start_worker(address, tmp, f"w{k}") for k in range(2)]
    procs += workers
    try:
        client = Client(address, timeout=60, set_as_default=False)
        client.wait_for_workers(2, timeout=120)
        yield address, client, workers
        client.close()
    finally:
        for p in procs:  # only the processes this fixture started, by their own handles
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _solutions(result) -> np.ndarray:
    """The solutions' values in a canonical order (rounded keys, for sorting only)."""
    values = np.array([s.values for s in result.solutions])
    order = np.lexsort(np.round(np.concatenate([values.real, values.imag], axis=1), 6).T[::-1])
    return values[order]


def _assert_same(local, remote) -> None:
    assert remote.paths == local.paths and remote.counts == local.counts
    assert len(remote.solutions) == len(local.solutions)
    np.testing.assert_allclose(_solutions(remote), _solutions(local), rtol=0, atol=1e-10)


def test_batch_size_is_a_second_of_work_within_bounds():
    from solver.engine.executors.dask import MAX_BATCH, MIN_BATCH, batch_size

    assert batch_size(0.01, 10**6, 2) == 100  # one second of 10 ms paths
    assert batch_size(0.01, 10**6, 1000) == 250  # 5 s for the scheduler, cut to 4 batches per thread
    assert batch_size(0.01, 64, 2) == MIN_BATCH and batch_size(1e-9, 10**9, 1) == MAX_BATCH


def test_kernel_arrays_on_the_cluster_equal_the_local_ones(cluster):
    """Endpoint by endpoint, in start order, over a probe batch and several sized batches."""
    _, client, _ = cluster
    system = katsura(6)  # 64 paths: a probe of 32, then batches of 8 for 2 threads
    rng = np.random.default_rng(5)
    start = choose_start(system, "total-degree", rng, 5, None, 10**6)
    hom = homotopy_data(system, start, rng)
    starts = np.concatenate(list(start.solutions()))
    opts = TrackerOptions.resolve(None)
    local = LocalExecutor().track(starts, hom, opts.as_array())
    seen: list[tuple[int, int]] = []
    with using(client), get_task_stream(client) as stream:
        remote = track(starts, hom, opts, lambda done, total: seen.append((done, total)), 0, 64)
    np.testing.assert_allclose(remote[0], local[0], rtol=0, atol=1e-12)
    for a, b in zip(remote[1:], local[1:]):
        np.testing.assert_array_equal(a, b)
    batches = [t for t in stream.data if "track_batch" in t["key"]]
    assert len(batches) >= 2 and len({t["worker"] for t in batches}) == 2  # both workers took batches
    assert seen[-1] == (64, 64) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_solve_through_the_scheduler_address_equals_the_local_solve(cluster):
    address, _, _ = cluster
    _assert_same(solve(katsura(5), seed=3), solve(katsura(5), seed=3, scheduler=address))


def test_cli_solve_with_scheduler_writes_the_local_answer(cluster, tmp_path, capsys):
    import json

    from solver.cli.main import main

    address, _, _ = cluster
    src = tmp_path / "k4.phc"
    src.write_text(format_system(katsura(4)))
    assert main(["solve", str(src), "--scheduler", address, "--json", str(tmp_path / "d.json"), "--quiet"]) == 0
    assert main(["solve", str(src), "--json", str(tmp_path / "l.json"), "--quiet"]) == 0
    remote, local = (json.loads((tmp_path / f).read_text()) for f in ("d.json", "l.json"))
    assert remote["counts"] == local["counts"] and len(remote["solutions"]) == 16
    for a, b in zip(remote["solutions"], local["solutions"]):
        np.testing.assert_allclose(np.array(a["re"]) + 1j * np.array(a["im"]),
                                   np.array(b["re"]) + 1j * np.array(b["im"]), rtol=0, atol=1e-10)


def test_unreachable_scheduler_is_one_clear_line(tmp_path, capsys):
    from solver.cli.main import main

    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        solve(katsura(2), scheduler=address)
    src = tmp_path / "k2.phc"
    src.write_text(format_system(katsura(2)))
    assert main(["solve", str(src), "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lps: cannot reach the Dask scheduler at {address}") and "Traceback" not in err


def test_service_with_dask_scheduler_solves_on_the_cluster(cluster, tmp_path):
    import httpx

    from api.client import Client as ServiceClient

    address, client, _ = cluster
    with ServiceProcess(tmp_path / "svc", env={"LPS_DASK_SCHEDULER": address, "NUMBA_NUM_THREADS": "1"}) as svc:
        with ServiceClient(svc.url, poll_interval=0.1) as c:
            health = httpx.get(svc.url + "/health").json()
            assert health["cluster"]["status"] == "connected" and health["cluster"]["workers"] == 2
            with get_task_stream(client) as stream:
                job = c.solve_system(format_system(katsura(5)), seed=4, progress=False)
    assert job["status"] == "done" and job["progress"]["done"] == job["result"]["paths"] == 32
    assert any("track_batch" in t["key"] for t in stream.data)  # the paths ran on the cluster
    local = solve(katsura(5), seed=4)
    ours = sorted(tuple(np.round(s["re"], 8)) + tuple(np.round(s["im"], 8)) for s in job["result"]["solutions"])
    theirs = sorted(tuple(np.round(s.values.real, 8)) + tuple(np.round(s.values.imag, 8)) for s in local.solutions)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=0, atol=1e-7)


def test_service_with_unreachable_scheduler_falls_back_and_says_so(tmp_path):
    import httpx

    address = f"tcp://127.0.0.1:{free_port()}"
    with ServiceProcess(tmp_path / "svc", env={"LPS_DASK_SCHEDULER": address, "NUMBA_NUM_THREADS": "1"}) as svc:
        cluster = httpx.get(svc.url + "/health").json()["cluster"]
    assert cluster["status"] == "unreachable" and cluster["scheduler"] == address
    assert "local pool" in cluster["fallback"] and "cannot reach" in cluster["reason"]


def test_worker_killed_mid_solve_loses_no_path(cluster):
    """SIGKILL one of the two workers when the first sized batch is back: Dask runs the
    dead worker's batches again on the other, and the answer is the local one."""
    address, client, workers = cluster
    system = katsura(8)  # 256 paths: a probe, then batches of 28 for 2 threads
    local = solve(system, seed=2)
    killed_at: list[int] = []
    after: list[int] = []

    def progress(done: int, total: int) -> None:
        if killed_at:
            after.append(done)
        elif done > 32:  # the probe and one sized batch are back: the rest is in flight
            workers[1].send_signal(signal.SIGKILL)
            workers[1].wait(10)
            killed_at.append(done)

    remote = solve(system, seed=2, scheduler=client, progress=progress)
    assert killed_at and killed_at[0] < 256 and after and after[-1] == 256
    assert workers[1].returncode == -signal.SIGKILL
    _assert_same(local, remote)
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(client.scheduler_info()["workers"]) == 1  # the scheduler saw the death
