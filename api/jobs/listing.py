"""The caller's jobs, newest first: what the web page's job list shows.

A read-only query on the store's connection (:class:`api.jobs.store.JobStore`), kept apart
from the store while the store is being reworked; it belongs there as a method.
"""

from __future__ import annotations

from api.jobs.store import Job, JobStore, _row_to_job


def owned_jobs(store: JobStore, owner: str, limit: int) -> list[Job]:
    """The ``limit`` most recent jobs of ``owner`` (the ``jobs_owner`` index), newest first."""
    rows = store.db.execute(
        "SELECT * FROM jobs WHERE owner = ? ORDER BY created DESC LIMIT ?", (owner, int(limit))
    ).fetchall()
    return [_row_to_job(row) for row in rows]


def summary(job: Job) -> dict:
    """A job's public JSON without the result, with what a list shows: the requested mode
    (layer specs) or start system (PHC systems)."""
    out = job.view()
    out["mode"] = job.request.get("mode") if job.kind == "network" else job.request.get("start")
    return out
