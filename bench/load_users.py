"""The simulated users of the load bench (a locustfile; ``bench/load.py`` runs it headless).

Each user has its own API key (``LOAD_KEYS``, comma-separated; user ``i`` takes key
``i mod n``), so the per-key quota and rate limit apply per user as they would for a team.
A user waits 1-3 s between requests and picks, by weight:

=================================== ====== ==============================================
``POST /solve (cached)``            4      the README example (exact mode), solved once
                                           before the run: a cache hit
``GET /jobs/{id}``                  4      a poll of the user's latest job
``GET /jobs/{id}/weights``          2      candidate 0..3 of the cached job, safetensors
``GET /health``                     2
``POST /solve (new)``               1      a small start-mode spec with a new seed: a new
                                           job (``wait=0``, answered 202 or 200)
=================================== ====== ==============================================

Every answer outside 2xx is a failure named ``status N`` (locust's failure table then
counts errors by status); connection errors (the restarts of the soak) keep locust's own
name. The ids of every job a user was given are appended to ``LOAD_JOBS_FILE`` at the end,
so that the driver can check that none was lost.
"""

from __future__ import annotations

import itertools
import os
import threading

from locust import HttpUser, between, events, task

from solver.networks.spec import EXAMPLE_SPEC

KEYS = [k for k in os.environ.get("LOAD_KEYS", "").split(",") if k]
JOBS_FILE = os.environ.get("LOAD_JOBS_FILE")
#: every request's (start time, name, milliseconds), for percentiles after the ramp-up
TIMES_FILE = os.environ.get("LOAD_TIMES_FILE")
_times: list[tuple[float, str, float]] = []
_serial = itertools.count()
_given: set[str] = set()
_lock = threading.Lock()


def new_spec(seed: int) -> dict:
    """A small start-mode spec (1-2-1) that no one asked before: a new job."""
    return {**EXAMPLE_SPEC, "mode": "start", "seed": seed}


class TeamMember(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.number = next(_serial)
        key = KEYS[self.number % len(KEYS)] if KEYS else ""
        self.client.headers["Authorization"] = f"Bearer {key}"
        self.seeds = itertools.count(1_000_000 * (self.number + 1))
        self.cached_id: str | None = None
        self.latest_id: str | None = None
        self.solve_cached()

    def _request(self, method: str, path: str, name: str, **kwargs) -> dict | None:
        """One request; non-2xx answers are failures named by their status."""
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
            if response.status_code == 0:  # connection error: locust records the exception
                return None
            if not 200 <= response.status_code < 300:
                response.failure(f"status {response.status_code}")
                return None
            if response.headers.get("content-type", "").startswith("application/json"):
                return response.json()
            return {}

    def _given_job(self, job: dict | None) -> None:
        if job and "id" in job:
            with _lock:
                _given.add(job["id"])
            self.latest_id = job["id"]

    @task(4)
    def solve_cached(self) -> None:
        job = self._request("POST", "/solve", "POST /solve (cached)", json=EXAMPLE_SPEC)
        if job is not None:
            self.cached_id = job["id"]
            self._given_job(job)

    @task(4)
    def poll(self) -> None:
        if self.latest_id:
            self._request("GET", f"/jobs/{self.latest_id}", "GET /jobs/{id}")

    @task(2)
    def weights(self) -> None:
        if self.cached_id:
            candidate = next(self.seeds) % 4
            self._request("GET", f"/jobs/{self.cached_id}/weights?candidate={candidate}", "GET /jobs/{id}/weights")

    @task(2)
    def health(self) -> None:
        self._request("GET", "/health", "GET /health")

    @task(1)
    def solve_new(self) -> None:
        job = self._request("POST", "/solve?wait=0", "POST /solve (new)", json=new_spec(next(self.seeds)))
        self._given_job(job)


@events.request.add_listener
def _record_time(name: str, response_time: float, start_time: float | None = None, **_: object) -> None:
    if TIMES_FILE and start_time is not None:
        _times.append((start_time, name, response_time))


@events.test_stop.add_listener
def _write_job_ids(**_: object) -> None:
    if JOBS_FILE:
        with open(JOBS_FILE, "a") as f:
            f.writelines(f"{job_id}\n" for job_id in sorted(_given))
    if TIMES_FILE:
        with open(TIMES_FILE, "w") as f:
            f.writelines(f"{t:.6f}\t{name}\t{ms:.3f}\n" for t, name, ms in _times)
