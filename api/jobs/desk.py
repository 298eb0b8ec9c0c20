"""The web process's side of jobs: admission, waiting, and the job answer.

A solve request becomes an :class:`Order`; :meth:`JobDesk.submit` joins an identical job
of the same key that is still active, or checks the request's work, the key's quota and
the queue, creates the job and wakes the runner, then waits up to the request's ``wait``
for the result: 200 with the job when it is final, 202 with ``Location`` otherwise. An
exact-mode spec whose family is stored nowhere first gets its family job (created, or
joined whoever created it: :mod:`api.jobs.families`), and its own job runs after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import anyio
from fastapi.responses import Response

from api.engine import Work
from api.errors import ApiError, path_limit
from api.jobs.families import FAMILY_OWNER, family_hash
from api.jobs.runner import Runner
from api.jobs.store import ACTIVE, FINAL, Job, JobStore, render_job
from api.metrics import ServiceMetrics
from api.settings import Settings

if TYPE_CHECKING:
    from api.jobs.precheck import Prechecker

#: ``precheck()`` -> the job's :class:`~api.engine.Work` (known up front) or None; raises
#: :class:`api.engine.PathLimit` for a request over ``max_paths``
Precheck = Callable[[], "Work | None"]


@dataclass(frozen=True)
class Order:
    """A solve request, validated and within the size limits."""

    kind: str
    owner: str
    spec_hash: str
    request: dict
    precheck: Precheck
    note: str | None = None


@dataclass
class JobDesk:
    """What the job endpoints share: the store, the runner, the settings, the metrics and
    the path counter (:class:`api.jobs.precheck.Prechecker`)."""

    store: JobStore
    runner: Runner
    settings: Settings
    metrics: ServiceMetrics
    prechecker: "Prechecker"

    def respond(self, job: Job, status_code: int = 200) -> Response:
        """The job's JSON (with its stored result once done); 202 adds ``Location``."""
        text = self.store.result_text(job.spec_hash) if job.status == "done" else None
        headers = {"Location": f"/jobs/{job.id}"} if status_code == 202 else None
        return Response(render_job(job, text, False), status_code, headers=headers, media_type="application/json")

    def cached(self, order: Order) -> Response | None:
        """The cached answer for the order (200, ``cached: true``), or None.

        The caller's own job for the same spec when there is one; otherwise a new job of
        the caller's pointing to the cached result, so that nothing of another key's job
        (its id, its timestamps, even whether it exists) is shown.
        """
        hit = self.store.cached(order.spec_hash, order.owner)
        if hit is None:
            return None
        job, text = hit
        if job is None:
            job = self.store.create_cached(order.kind, order.owner, order.spec_hash, order.request)
        self.metrics.cache_hits.inc()
        return Response(render_job(job, text, True), 200, media_type="application/json")

    async def submit(self, order: Order, wait: float | None) -> Response:
        """Create (or join) the order's job and wait up to ``wait`` seconds for it."""
        job = self.store.active_for(order.owner, order.spec_hash)
        if job is None:
            self._admit(order.owner)  # the quota first: a key over it costs no count
            asked = time.time()
            work = await anyio.to_thread.run_sync(order.precheck) or Work(None, None)
            # no await between the counts and the inserts: the event loop makes them atomic
            self._admit(order.owner)
            family = self._family_job(work.family, asked) if work.family else None
            note = order.note
            if family is not None:
                note = "; ".join(filter(None, [note, f"runs after family job {family.id}, which solves the family "
                                                     f"{work.family} once for every request of this architecture"]))
            job = self.store.create(order.kind, order.owner, order.spec_hash, order.request, note=note,
                                    progress_total=work.total, progress_unit=work.unit,
                                    after=family.id if family is not None else None)
            self.metrics.jobs_submitted.inc()
            self.runner.notify()
        seconds = self.settings.wait_seconds if wait is None else min(float(wait), self.settings.max_wait_seconds)
        if job.status not in FINAL:
            await self.runner.wait_for(job.id, seconds)
        job = self.store.get(job.id)
        if job.status == "failed" and (job.error or {}).get("limit") == "max_paths":
            raise path_limit(job.error, job_id=job.id)
        return self.respond(job, 200 if job.status in FINAL else 202)

    def _family_job(self, family: str, asked: float) -> Job | None:
        """The family job to run after: the active one of ``family`` (whoever created it),
        else a new one; None when one stored the family since ``asked`` (the pre-check's
        start, when it was missing)."""
        last = self.store.latest(family_hash(family))
        if last is not None and last.status in ACTIVE:
            return last
        if last is not None and last.status == "done" and (last.finished or 0.0) >= asked:
            return None
        job = self.store.create("family", FAMILY_OWNER, family_hash(family), {"family": family}, progress_unit="paths",
                                note=f"solves the generic member of the family {family} once and stores it; "
                                     "exact-mode requests of this architecture run after it")
        self.metrics.jobs_submitted.inc()
        return job

    def _admit(self, owner: str) -> None:
        """429 over the key's quota, 503 when the queue is full."""
        s = self.settings
        in_flight = self.store.count_active(owner)
        if in_flight >= s.max_jobs_per_key:
            raise ApiError(
                429, "too_many_jobs",
                f"this key has {in_flight} jobs queued or running, the limit is {s.max_jobs_per_key}; "
                "wait for one to finish or cancel one",
                headers={"Retry-After": "5"}, limit="max_jobs_per_key", value=in_flight, max=s.max_jobs_per_key)
        total = self.store.count_active()
        if total >= s.max_queue:
            raise ApiError(503, "queue_full", f"the service has {total} jobs queued or running (limit {s.max_queue})",
                           headers={"Retry-After": "10"}, limit="max_queue", value=total, max=s.max_queue)
