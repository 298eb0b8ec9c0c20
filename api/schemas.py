"""Request and response models of the HTTP API (what the OpenAPI document shows).

The layer spec (body of ``POST /solve``) is the engine's own model,
:class:`solver.networks.spec.NetworkSpec`; job answers are rendered by
:func:`api.jobs.store.render_job` and documented here as :class:`JobOut`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class SystemRequest(BaseModel):
    """A square polynomial system in PHC text and how to solve it."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(min_length=1, description="PHCpack text: first line n (or n m), then ';'-terminated polynomials")
    start: Literal["auto", "total-degree", "linear-product", "polyhedral"] = Field(
        "auto", description="start system; auto takes the smaller of total degree and linear product")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seeds every random choice")
    max_paths: Optional[int] = Field(None, ge=1, description="refuse start systems with more paths (default and cap: the service limit)")
    tracker: Literal["default", "fast", "conservative"] = Field("default", description="tracker preset")


class Progress(BaseModel):
    """How far a job is: ``done`` of ``total`` paths or layers."""

    done: int
    total: Optional[int] = None
    unit: Optional[str] = Field(None, description="paths or layers")


class JobOut(BaseModel):
    """A job as answered by every job endpoint."""

    id: str
    kind: Literal["network", "system"]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    cached: bool = Field(description="answered from the result cache without solving")
    progress: Progress
    attempts: int
    spec_hash: str
    created: float
    started: Optional[float] = None
    finished: Optional[float] = None
    note: Optional[str] = None
    error: Optional[dict] = None
    result: Optional[dict] = Field(None, description="when done: the network result (mode, counts, critical points, candidates with weights) or the lps solve JSON")


class ErrorOut(BaseModel):
    """Every error answer: a code, the reason, and fields that depend on the error."""

    error: str
    reason: str
    model_config = ConfigDict(extra="allow")


#: documented error answers, by status
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing or wrong API key"},
    413: {"model": ErrorOut, "description": "request body too large (the limit is in the body)"},
    422: {"model": ErrorOut, "description": "invalid request (field and reason) or a limit exceeded (limit, value, max)"},
    429: {"model": ErrorOut, "description": "too many jobs in flight for this key, or over a request rate limit (Retry-After)"},
    503: {"model": ErrorOut, "description": "queue full or an engine piece missing; retry later"},
}

#: the answers of a solve endpoint besides 200
SOLVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": JobOut, "description": "queued or running: poll Location"},
    **ERRORS,
}
