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
    start: Literal["auto", "total-degree", "linear-product", "polyhedral", "polyhedral-constants"] = Field(
        "auto", description="start system; auto takes the complete one with the fewest paths (total degree, linear "
                            "product, polyhedral with constants); plain polyhedral misses solutions with a zero "
                            "coordinate")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seeds every random choice")
    max_paths: Optional[int] = Field(None, ge=1, description="refuse start systems with more paths (default and cap: the service limit)")
    tracker: Literal["default", "fast", "conservative"] = Field("default", description="tracker preset")


class Progress(BaseModel):
    """How far a job is: ``done`` of ``total`` paths or layers."""

    done: int
    total: Optional[int] = None
    unit: Optional[str] = Field(None, description="paths or layers")


class _JobFields(BaseModel):
    """What every view of a job holds."""

    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: Progress
    attempts: int
    spec_hash: str
    created: float
    started: Optional[float] = None
    finished: Optional[float] = None
    note: Optional[str] = None
    error: Optional[dict] = None
    after: Optional[str] = Field(None, description="the job this one runs after: an exact-mode spec's family job")
    waiting_for: Optional[str] = Field(None, description="while queued: the job it waits for, still queued or running")


class JobOut(_JobFields):
    """A job as answered by every job endpoint."""

    kind: Literal["network", "system", "family"]
    cached: bool = Field(description="answered from the result cache without solving")
    result: Optional[dict] = Field(None, description="when done: the network result (mode, counts, critical points, candidates with weights), the lps solve JSON, or the family's summary")


class JobSummary(_JobFields):
    """A job in the caller's list: as :class:`JobOut` without the result, with ``mode``
    (the requested mode of a layer spec, the start system of a PHC system)."""

    kind: str = Field(description="network, system, or another kind of job the service runs")
    mode: Optional[str] = None


class JobList(BaseModel):
    """The caller's most recent jobs, newest first."""

    jobs: list[JobSummary]


class SurrogateCurve(BaseModel):
    """One layer's activation and surrogate on the surrogate's interval (the fit every
    mode uses), sampled for a plot."""

    layer: int
    activation: str
    degree: int
    interval: list[float]
    coefficients: list[float] = Field(description="monomial coefficients, ascending")
    max_error: float = Field(description="max |activation - surrogate| on the interval")
    rms_error: float
    roots: list[float]
    x: list[float]
    activation_values: list[float]
    surrogate_values: list[float]


class SurrogateCurves(BaseModel):
    """Per layer, in order."""

    layers: list[SurrogateCurve]


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


class StoredFamily(BaseModel):
    """A network family exact mode finds stored: its generic member's solutions."""

    id: str = Field(description="widths, bias flags and per-layer surrogate degrees, e.g. 1-2-1.b11.d21")
    finite: Optional[int] = Field(None, description="the generic count: finite solutions of the generic member")
    orbits: Optional[int] = Field(None, description="their orbits under hidden-neuron permutations")
    method: Optional[str] = Field(None, description="linear-product or monodromy")
    seed: Optional[int] = None
    source: Literal["data", "shipped"] = Field(description="the service's data folder or the package")


class FamilyJob(BaseModel):
    """A family job: the one-time solve of a family no request found stored."""

    id: str
    family: Optional[str] = None
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: Progress
    attempts: int
    created: float
    started: Optional[float] = None
    finished: Optional[float] = None
    error: Optional[dict] = None


class FamiliesOut(BaseModel):
    """The stored families, and the family jobs active or recent (active first, newest first)."""

    stored: list[StoredFamily]
    jobs: list[FamilyJob]
