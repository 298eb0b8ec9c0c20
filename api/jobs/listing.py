"""What the job list shows of a job (the web page's list and ``GET /jobs``)."""

from __future__ import annotations

from api.jobs.store import Job


def summary(job: Job) -> dict:
    """A job's public JSON without the result, with what a list shows: the requested mode
    (layer specs) or start system (PHC systems)."""
    out = job.view()
    out["mode"] = job.request.get("mode") if job.kind == "network" else job.request.get("start")
    return out
