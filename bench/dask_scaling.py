#!/usr/bin/env python
"""Dask scaling benchmark (issue 13): paths per second on a loopback cluster against the
local executor, the overhead per task, and the scheduler's task rate.

The job: the first ``--paths`` start solutions of 1-2-1's network linear-product start
system (``bench/network.py``'s spec: relu surrogate of degree 2, identity output, biases,
weight decay 0.01), the same homotopy and seed for every executor. Measured, in one run:

1. **local**: :class:`~solver.engine.executors.LocalExecutor` with 1 and with all Numba
   threads (this process);
2. **dask, 1 and 2 worker processes** (``dask worker --nthreads 1``, one Numba thread
   each), started as subprocesses on loopback; warm kernels, batches sized by the executor;
   the endpoints are checked against the local ones;
3. **overhead per task**: (workers x wall time - the tracking seconds the tasks report) /
   tasks, i.e. what a batch costs beyond its tracking (serialisation, round trip, idle
   tail); and the round trip of an empty task;
4. **scheduler rate**: empty tasks per second one scheduler takes (2,000 at once).

Run (the machine should be otherwise idle for figures worth quoting)::

    .venv/bin/python bench/dask_scaling.py --paths 3000

Prints a markdown table and writes JSON (default ``bench/results/dask_scaling.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("NUMBA_NUM_THREADS", str(os.cpu_count() or 1))


def job(paths: int, seed: int = 0):
    """``(starts, hom, opts)``: 1-2-1's linear-product start, its first ``paths`` solutions."""
    from bench.network import make_spec
    from solver.engine.homotopy import homotopy_data
    from solver.engine.options import TrackerOptions
    from solver.engine.start_systems.choice import choose_start
    from solver.networks.gradient_system import network_loss
    from solver.networks.structure import network_set_structure

    spec = make_spec((1, 2, 1))
    system = network_loss(spec).system
    rng = np.random.default_rng(seed)
    start = choose_start(system, "linear-product", rng, seed, network_set_structure(spec), 10**9)
    starts = []
    for chunk in start.solutions(chunk=min(paths, 65536)):
        starts.append(chunk)
        if sum(len(c) for c in starts) >= paths:
            break
    return np.concatenate(starts)[:paths], homotopy_data(system, start, rng), TrackerOptions.resolve(None).as_array(), start.count


def _dask(args: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, cwd=str(ROOT), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _noop(x: int) -> int:
    return x


def on_cluster(workers: int, starts, hom, opts, local, tmp: Path) -> dict:
    """Start a scheduler and ``workers`` one-thread workers; track; measure; stop them."""
    from distributed import Client, get_task_stream

    from api.testing import free_port
    from solver.engine.executors.dask import DaskExecutor

    address = f"tcp://127.0.0.1:{free_port()}"
    procs = [_dask(["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
                   tmp / f"scheduler{workers}.log")]
    procs += [_dask(["worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                     "--local-directory", str(tmp / f"w{workers}-{k}")], tmp / f"worker{workers}-{k}.log") for k in range(workers)]
    try:
        client = Client(address, timeout=60, set_as_default=False)
        client.wait_for_workers(workers, timeout=120)
        executor = DaskExecutor(client)  # registers the warm-up plugin: kernels loaded before timing
        executor.track(starts[:16], hom, opts)  # one probe for the estimate, off the clock
        with get_task_stream(client) as stream:
            t0 = time.perf_counter()
            out = executor.track(starts, hom, opts)
            wall = time.perf_counter() - t0
        assert np.allclose(out[0], local[0], rtol=0, atol=1e-10) and all((a == b).all() for a, b in zip(out[1:], local[1:]))
        tasks = [t for t in stream.data if "track_batch" in t["key"]]
        compute = sum(s["stop"] - s["start"] for t in tasks for s in t["startstops"] if s["action"] == "compute")
        t0 = time.perf_counter()
        for k in range(50):
            client.submit(_noop, k, pure=False).result()
        round_trip = (time.perf_counter() - t0) / 50
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(2000), pure=False))
        rate = 2000 / (time.perf_counter() - t0)
        client.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(20)
    return {
        "executor": f"dask, {workers} worker process{'es' if workers > 1 else ''}", "workers": workers,
        "seconds": wall, "paths_per_second": len(starts) / wall, "tasks": len(tasks),
        "paths_per_task": len(starts) / max(len(tasks), 1), "task_compute_seconds": compute / max(len(tasks), 1),
        "overhead_per_task": (workers * wall - compute) / max(len(tasks), 1),
        "empty_task_round_trip": round_trip, "scheduler_tasks_per_second": rate,
    }


def local_run(threads: int, starts, hom, opts) -> tuple[dict, tuple]:
    import numba

    from solver.engine.executors import LocalExecutor

    numba.set_num_threads(threads)
    LocalExecutor().track(starts[:16], hom, opts)  # JIT / cache load off the clock
    t0 = time.perf_counter()
    out = LocalExecutor().track(starts, hom, opts)
    wall = time.perf_counter() - t0
    return {"executor": f"local, {threads} Numba thread{'s' if threads > 1 else ''}", "workers": threads,
            "seconds": wall, "paths_per_second": len(starts) / wall}, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", type=int, default=3000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "dask_scaling.json"))
    args = ap.parse_args(argv)
    import numba
    import tempfile

    starts, hom, opts, count = job(args.paths)
    rows = []
    row, local = local_run(1, starts, hom, opts)
    rows.append(row)
    if numba.config.NUMBA_NUM_THREADS > 1:
        rows.append(local_run(numba.config.NUMBA_NUM_THREADS, starts, hom, opts)[0])
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            rows.append(on_cluster(workers, starts, hom, opts, local, Path(tmp)))
    base = rows[0]["paths_per_second"]
    print(f"1-2-1 linear-product start ({count} paths), first {len(starts)} tracked; speed-up against local, 1 thread\n")
    print("| executor | seconds | paths/s | speed-up | tasks | paths/task | task compute s | overhead/task s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['executor']} | {r['seconds']:.2f} | {r['paths_per_second']:.0f} | {r['paths_per_second'] / base:.2f} | "
              f"{r.get('tasks', '')} | {r.get('paths_per_task', 0):.0f} | {r.get('task_compute_seconds', 0):.3f} | "
              f"{r.get('overhead_per_task', 0):.4f} |")
    for r in rows[2:] if len(rows) > 3 else rows[1:]:
        if "empty_task_round_trip" in r:
            print(f"\n{r['executor']}: empty task round trip {1e3 * r['empty_task_round_trip']:.1f} ms, "
                  f"scheduler {r['scheduler_tasks_per_second']:.0f} empty tasks/s")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"network": "1-2-1", "start_paths": count, "tracked": len(starts), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
