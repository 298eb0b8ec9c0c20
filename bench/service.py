"""Service benchmark: cache-hit latency against ``GET /health``, throughput, first solve.

Runs a real server (``python -m api.cli_serve``) on a free loopback port with an API key,
then measures, in the same run:

* latency p50/p99 of ``GET /health`` (the baseline: no auth, no database, no body) and of
  a cached ``POST /solve`` (auth, body parsing and spec validation, canonical hash, one
  SQLite read), interleaved request by request so both see the same machine load;
* requests per second with 8 concurrent clients (threads, keep-alive), for both;
* first-solve latency of a 1-2-1 spec on a fresh server (exact mode when this build has
  it, else start mode; the mode is printed), from POST to the result.

Target: a cache hit within 2x of ``/health``.

Usage: ``python bench/service.py [--requests 400] [--seconds 5] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.client import Client  # noqa: E402
from api.testing import ServiceProcess  # noqa: E402

KEY = "bench-key-0123456789"
SPEC_121 = {
    "layers": [
        {"in_features": 1, "out_features": 2, "activation": "relu"},
        {"in_features": 2, "out_features": 1, "activation": "identity"},
    ],
    "data": {"x": [[-1.0], [-0.5], [0.0], [0.5], [1.0]], "y": [[1.0], [0.5], [0.0], [0.5], [1.0]]},
    "seed": 0,
}


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


def first_solve(url: str, mode: str) -> dict:
    spec = {**SPEC_121, "mode": mode}
    t0 = time.perf_counter()
    with Client(url, api_key=KEY, poll_interval=0.05) as c:
        job = c.solve(spec, progress=False, timeout=600)
    seconds = time.perf_counter() - t0
    res = job["result"]
    from api.engine import paths_of

    return {"mode": res.get("mode", mode), "seconds": seconds, "cached": job["cached"], "paths": paths_of(res),
            "candidates": len(res.get("candidates") or [])}


def latencies(url: str, spec: dict, n: int) -> dict:
    auth = {"Authorization": f"Bearer {KEY}"}
    health, cached = [], []
    with httpx.Client(base_url=url, headers=auth, timeout=30) as h:
        for _ in range(20):  # warm the connection and the server's code paths
            h.get("/health")
            h.post("/solve", json=spec)
        for _ in range(n):
            t = time.perf_counter()
            r = h.get("/health")
            health.append(time.perf_counter() - t)
            assert r.status_code == 200
            t = time.perf_counter()
            r = h.post("/solve", json=spec)
            cached.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.json()["cached"] is True, r.text[:300]
    out = {}
    for name, xs in (("health", health), ("cached_solve", cached)):
        out[name] = {"p50_ms": 1e3 * statistics.median(xs), "p99_ms": 1e3 * percentile(xs, 99),
                     "mean_ms": 1e3 * statistics.fmean(xs), "n": len(xs)}
    out["ratio_p50"] = out["cached_solve"]["p50_ms"] / out["health"]["p50_ms"]
    out["ratio_p99"] = out["cached_solve"]["p99_ms"] / out["health"]["p99_ms"]
    return out


def throughput(url: str, spec: dict, seconds: float, clients: int = 8) -> dict:
    auth = {"Authorization": f"Bearer {KEY}"}
    out = {}
    for name in ("health", "cached_solve"):
        counts = [0] * clients
        errors = [0] * clients
        stop = time.perf_counter() + seconds

        def run(k: int) -> None:
            with httpx.Client(base_url=url, headers=auth, timeout=30) as h:
                while time.perf_counter() < stop:
                    r = h.get("/health") if name == "health" else h.post("/solve", json=spec)
                    if r.status_code == 200:
                        counts[k] += 1
                    else:
                        errors[k] += 1

        t0 = time.perf_counter()
        threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        out[name] = {"rps": sum(counts) / elapsed, "requests": sum(counts), "errors": sum(errors), "clients": clients}
    out["ratio_rps"] = out["cached_solve"]["rps"] / out["health"]["rps"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=400, help="sequential requests per endpoint (latency)")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds per endpoint under 8 clients")
    p.add_argument("--json", default="bench/results/service.json", help="where to write the numbers")
    p.add_argument("--mode", choices=["auto", "exact", "start", "layerwise"], default=None,
                   help="mode of the first 1-2-1 solve (default: exact when this build has it, else start)")
    p.add_argument("--skip-first-solve", action="store_true", help="only the latency and throughput parts")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        svc = ServiceProcess(Path(tmp) / "data", env={"LPS_API_KEYS": KEY}, workers=1)
        svc.start(timeout=300)
        try:
            features = httpx.get(svc.url + "/health").json()["features"]
            mode = args.mode or ("exact" if features.get("exact_mode") and features.get("spec_runner") else "start")
            first = None if args.skip_first_solve else first_solve(svc.url, mode)
            if first is None:  # the cached path needs one result in the cache
                with Client(svc.url, api_key=KEY) as c:
                    c.solve({**SPEC_121, "mode": mode}, progress=False, timeout=600)
            spec = {**SPEC_121, "mode": mode}
            lat = latencies(svc.url, spec, args.requests)
            thr = throughput(svc.url, spec, args.seconds)
        finally:
            svc.stop()

    import numba

    report = {
        "load_average_1min": os.getloadavg()[0],
        "machine": {"cores": os.cpu_count(), "server": "uvicorn, 1 web process, 1 solver process",
                    "numba_threads": int(numba.config.NUMBA_NUM_THREADS)},
        "first_solve_1_2_1": first,
        "latency": lat,
        "throughput_8_clients": thr,
    }
    if first is not None:
        print(f"first solve 1-2-1 ({first['mode']} mode, {first['paths']} paths, fresh server, worker warm): "
              f"{first['seconds']:.1f} s")
    print(f"{'':14s} {'p50 ms':>8s} {'p99 ms':>8s} {'rps (8 clients)':>16s}")
    for name in ("health", "cached_solve"):
        print(f"{name:14s} {lat[name]['p50_ms']:8.2f} {lat[name]['p99_ms']:8.2f} {thr[name]['rps']:16.0f}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Numba threads {numba.config.NUMBA_NUM_THREADS}")
    print(f"cached / health: p50 x{lat['ratio_p50']:.2f}, p99 x{lat['ratio_p99']:.2f}, "
          f"throughput x{thr['ratio_rps']:.2f} (target: latency within 2x)")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
