"""Load and soak bench: 50 simulated users on a real ``lps serve`` for 5 minutes, then the
same with the server restarted in the middle (SIGTERM, then SIGKILL).

The users (``bench/load_users.py``, locust headless in a child process) mix cached
``POST /solve``, new small solves, job polls, weight downloads and ``/health``. This
driver starts the service (``api.testing.ServiceProcess``: one solver process, one key per
user), primes the cache with the README example, runs locust, samples the API process's
resident memory, and reads the job database after the run.

Reported per run: requests/s, p50/p95/p99 by endpoint, errors by status (connection
errors apart: they are the restarts), RSS of the API process (and of its solver
processes) at start and end, the SQLite file size, and the jobs at the end: every job a
user was given must exist and end done or failed with a reason (none lost, none stuck).

Targets (issue 14): no 5xx; p99 of a cached ``POST /solve`` within 5x its p50; RSS growth
under 20 % over the soak.

Usage: ``python bench/load.py [--users 50] [--seconds 300] [--runs plain,restart]
[--out bench/results/load]``; the figures go to ``OUT/load.json`` and the terminal.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.testing import ServiceProcess  # noqa: E402
from solver.networks.spec import EXAMPLE_SPEC  # noqa: E402

FINAL = ("done", "failed", "cancelled")


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process (``VmRSS``), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory(svc: ServiceProcess) -> dict:
    """RSS of the API process and the sum over its child processes (solver, path counter)."""
    pid = svc.proc.pid
    return {"api_mb": rss_mb(pid), "children_mb": sum(rss_mb(c) or 0.0 for c in children(pid))}


def sqlite_bytes(data_dir: Path) -> int:
    return sum((data_dir / f"lps.sqlite3{s}").stat().st_size for s in ("", "-wal", "-shm")
               if (data_dir / f"lps.sqlite3{s}").exists())


class Sampler(threading.Thread):
    """RSS of the API process every ``every`` seconds (the process changes at a restart)."""

    def __init__(self, svc: ServiceProcess, every: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.svc, self.every, self.samples, self.stop_event = svc, every, [], threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop_event.wait(self.every):
            if self.svc.proc is not None and self.svc.proc.poll() is None:
                self.samples.append({"t": round(time.monotonic() - t0, 1), "pid": self.svc.proc.pid, **memory(self.svc)})


def prime(svc: ServiceProcess, key: str) -> None:
    """Solve the README example once, so that every later POST of it is a cache hit."""
    with httpx.Client(base_url=svc.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
        for _ in range(10):  # the path counter of a fresh server may still be starting
            job = c.post("/solve", json=EXAMPLE_SPEC, params={"wait": 60}).json()
            if "status" in job:
                break
            print(f"prime: {job}", file=sys.stderr)
            time.sleep(2)
        while job["status"] not in FINAL:
            time.sleep(0.5)
            job = c.get(f"/jobs/{job['id']}").json()
        assert job["status"] == "done", job


def in_flight(svc: ServiceProcess, key: str, seeds: range) -> list[str]:
    """Exact-mode jobs (a few seconds each) submitted just before a restart, so that one is
    running and the others queued when the signal comes; their ids."""
    ids = []
    with httpx.Client(base_url=svc.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        for seed in seeds:
            for _ in range(5):  # right after a restart the path counter may still be starting
                answer = c.post("/solve", json={**EXAMPLE_SPEC, "seed": seed}, params={"wait": 0})
                if answer.status_code in (200, 202):
                    ids.append(answer.json()["id"])
                    break
                print(f"in-flight job refused: {answer.status_code} {answer.text[:200]}", file=sys.stderr)
                time.sleep(1)
    return ids


def locust(svc: ServiceProcess, keys: list[str], users: int, seconds: int, out: Path, name: str) -> subprocess.Popen:
    (out / f"{name}_jobs.txt").unlink(missing_ok=True)  # the users append to it
    env = {**os.environ, "LOAD_KEYS": ",".join(keys), "LOAD_JOBS_FILE": str(out / f"{name}_jobs.txt"),
           "LOAD_TIMES_FILE": str(out / f"{name}_times.tsv"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load_users.py"), "--headless",
           "-u", str(users), "-r", "10", "-t", f"{seconds}s", "--host", svc.url, "--csv", str(out / name),
           "--only-summary", "--loglevel", "WARNING"]
    log = open(out / f"{name}_locust.log", "w")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))


def read_stats(out: Path, name: str) -> dict:
    """Locust's CSV: per endpoint requests/s and percentiles; failures by message."""
    endpoints = {}
    with open(out / f"{name}_stats.csv") as f:
        for row in csv.DictReader(f):
            endpoints[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]), "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]), "max_ms": float(row["Max Response Time"]),
            }
    errors: dict[str, int] = {}
    with open(out / f"{name}_failures.csv") as f:
        for row in csv.DictReader(f):
            message = row["Error"] if row["Error"].startswith("status ") else "connection: " + row["Error"][:80]
            errors[message] = errors.get(message, 0) + int(row["Occurrences"])
    return {"endpoints": endpoints, "errors": errors}


def steady_state(out: Path, name: str, users: int, rate: float = 10.0) -> dict:
    """Percentiles per endpoint over the requests that started after the ramp-up: once the
    last user was spawned (``users / rate`` seconds after the first request) and had made
    its first request. During the ramp-up locust spends its process on creating users and
    every request is slower (the first of each user included: it opens the connection and
    makes the key's own job for the cached answer); the full-run table keeps them."""
    rows = [line.split("\t") for line in (out / f"{name}_times.tsv").read_text().splitlines()]
    if not rows:
        return {}
    begin = min(float(t) for t, _, _ in rows) + users / rate + 1.0
    by_name: dict[str, list[float]] = {}
    for t, endpoint, ms in rows:
        if float(t) >= begin:
            by_name.setdefault(endpoint, []).append(float(ms))
    out_rows = {}
    for endpoint, ms in sorted(by_name.items()):
        q = np.percentile(ms, [50, 95, 99])
        out_rows[endpoint] = {"requests": len(ms), "p50_ms": q[0], "p95_ms": q[1], "p99_ms": q[2], "max_ms": max(ms)}
    return {"after_s": round(users / rate + 1.0, 1), "endpoints": out_rows}


def jobs_at_end(svc: ServiceProcess, out: Path, name: str, extra_ids: list[str], timeout: float = 600) -> dict:
    """Wait until no job is queued or running, then check every job a user (or the
    driver, ``extra_ids``) was given."""
    db = svc.data_dir / "lps.sqlite3"
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            active = con.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')").fetchone()[0]
            if active == 0 or time.monotonic() > deadline:
                rows = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, status, error FROM jobs")}
                break
        time.sleep(2)
    given_path = out / f"{name}_jobs.txt"
    given = set(given_path.read_text().split()) if given_path.exists() else set()
    given |= set(extra_ids)
    by_status: dict[str, int] = {}
    for status, _ in rows.values():
        by_status[status] = by_status.get(status, 0) + 1
    failed_reasons: dict[str, int] = {}
    for status, error in rows.values():
        if status == "failed":
            reason = (json.loads(error) if error else {}).get("reason", "NO REASON")
            failed_reasons[reason] = failed_reasons.get(reason, 0) + 1
    return {
        "jobs": len(rows), "by_status": by_status, "still_active": active,
        "given_to_users": len(given), "lost": sorted(given - set(rows)),
        "failed_without_reason": failed_reasons.get("NO REASON", 0), "failed_reasons": failed_reasons,
    }


def status_of(svc: ServiceProcess, job_id: str) -> str:
    with sqlite3.connect(f"file:{svc.data_dir / 'lps.sqlite3'}?mode=ro", uri=True) as con:
        row = con.execute("SELECT status, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return f"{row[0]} after {row[1]} attempt(s)" if row else "LOST"


def run(name: str, users: int, seconds: int, out: Path, restarts: bool) -> dict:
    keys = [f"load-key-{i:03d}-0123456789" for i in range(users)]
    data = Path(tempfile.mkdtemp(prefix=f"lps-load-{name}-"))
    svc = ServiceProcess(data, env={"LPS_API_KEYS": ",".join(keys)}).start()
    try:
        prime(svc, keys[0])
        start = {"memory": memory(svc), "sqlite_bytes": sqlite_bytes(data)}
        sampler = Sampler(svc)
        sampler.start()
        proc = locust(svc, keys, users, seconds, out, name)
        t0, events = time.monotonic(), []
        if restarts:  # SIGTERM at a third, SIGKILL at two thirds of the run
            for n, (at, kill) in enumerate(((seconds / 3, False), (2 * seconds / 3, True))):
                time.sleep(max(0.0, at - 2 - (time.monotonic() - t0)))
                jobs = in_flight(svc, keys[-1], range(100 + 3 * n, 103 + 3 * n))
                time.sleep(2)
                t = time.monotonic()
                svc.restart(kill=kill)
                events.append({"signal": "SIGKILL" if kill else "SIGTERM", "at_s": round(at),
                               "down_s": round(time.monotonic() - t, 1), "jobs_in_flight": jobs})
        proc.wait(seconds + 120)
        end = {"memory": memory(svc), "sqlite_bytes": sqlite_bytes(data)}
        sampler.stop_event.set()
        result = {"name": name, "users": users, "seconds": seconds, "restarts": events, "start": start, "end": end,
                  **read_stats(out, name), "steady": steady_state(out, name, users), "rss_samples": sampler.samples}
        result["jobs_at_end"] = jobs_at_end(svc, out, name, [i for e in events for i in e["jobs_in_flight"]])
        result["jobs_in_flight_at_restarts"] = {
            e["signal"]: {i: status_of(svc, i) for i in e["jobs_in_flight"]} for e in events}
        result["end"]["sqlite_bytes_after_jobs"] = sqlite_bytes(data)
        return result
    finally:
        svc.stop()


def report(r: dict) -> str:
    lines = [f"## {r['name']}: {r['users']} users, {r['seconds']} s" + (
        "; restarts: " + ", ".join(f"{e['signal']} at {e['at_s']} s (down {e['down_s']} s)" for e in r["restarts"])
        if r["restarts"] else "")]
    lines.append("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, e in r["endpoints"].items():
        lines.append(f"| {name} | {e['requests']} | {e['rps']:.2f} | {e['p50_ms']:.0f} | {e['p95_ms']:.0f} | "
                     f"{e['p99_ms']:.0f} | {e['max_ms']:.0f} | {e['failures']} |")
    steady = r.get("steady") or {}
    if steady:
        lines.append(f"\nAfter the ramp-up (requests started {steady['after_s']} s or more after the first):\n")
        lines.append("| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | p99 / p50 |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for name, e in steady["endpoints"].items():
            lines.append(f"| {name} | {e['requests']} | {e['p50_ms']:.1f} | {e['p95_ms']:.1f} | {e['p99_ms']:.1f} | "
                         f"{e['max_ms']:.0f} | {e['p99_ms'] / e['p50_ms']:.1f} |")
        lines.append("")
    lines.append("errors: " + (", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none"))
    s, e = r["start"], r["end"]
    lines.append(f"RSS of the API process: {s['memory']['api_mb']:.1f} -> {e['memory']['api_mb']:.1f} MiB "
                 f"(solver processes {s['memory']['children_mb']:.1f} -> {e['memory']['children_mb']:.1f} MiB); "
                 f"SQLite {s['sqlite_bytes'] / 1e6:.2f} -> {e['sqlite_bytes'] / 1e6:.2f} MB")
    for signal, jobs in r.get("jobs_in_flight_at_restarts", {}).items():
        lines.append(f"jobs in flight at {signal}: " + ", ".join(f"{i[:8]} {v}" for i, v in jobs.items()))
    j = r["jobs_at_end"]
    lines.append(f"jobs: {j['jobs']} {j['by_status']}; given to users {j['given_to_users']}, lost {len(j['lost'])}, "
                 f"still active {j['still_active']}, failed without a reason {j['failed_without_reason']}; "
                 f"failure reasons {j['failed_reasons'] or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seconds", type=int, default=300)
    p.add_argument("--runs", default="plain,restart", help="plain, restart, or both (comma-separated)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.runs.split(","):
        r = run(name, args.users, args.seconds, args.out, restarts=name == "restart")
        print(report(r), flush=True)
        results.append(r)
    (args.out / "load.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
