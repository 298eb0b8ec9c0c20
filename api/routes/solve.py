"""``POST /solve`` (a layer spec) and ``POST /systems/solve`` (a PHC-text system).

Both check the request against the service limits (422 naming the limit), answer from the
cache when they can, and otherwise submit a job (:class:`api.jobs.desk.JobDesk`). An
exact-mode spec whose family is stored nowhere runs after the family's job (solved once,
within ``family_max_paths``: :mod:`api.jobs.families`).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import anyio
from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from api import engine
from api.deps import CallerDep, DeskDep, SettingsDep, get_caller
from api.errors import limit_exceeded
from api.jobs.desk import JobDesk, Order, Precheck
from api.schemas import SOLVE_RESPONSES, JobOut, SystemRequest
from api.settings import Settings
from solver.engine.formats.phc import format_system
from solver.networks.spec import EXAMPLE_SPEC, NetworkSpec

router = APIRouter(tags=["solve"], dependencies=[Depends(get_caller)])

Wait = Annotated[Optional[float], Query(
    ge=0, le=3600, description="seconds to wait for the result before answering 202 (default 2, capped by the service)")]


def _check_max_paths(requested: int, settings: Settings) -> None:
    if requested > settings.max_paths:
        raise limit_exceeded("max_paths", requested, settings.max_paths,
                             f"max_paths={requested} is more than this service's limit of {settings.max_paths}")


def _within_limits(spec: NetworkSpec, settings: Settings) -> tuple[NetworkSpec, str | None]:
    """The spec, with ``max_paths`` lowered to the service limit when it was a default,
    and the note saying so; 422 for a spec over a size limit."""
    dims = engine.network_dims(spec)
    checks = (
        ("max_rows", dims["rows"], settings.max_rows, "data rows"),
        ("max_features", dims["features"], settings.max_features, "input features"),
        ("max_width", dims["width"], settings.max_width, "the widest layer's features"),
        ("max_layers", dims["layers"], settings.max_layers, "layers"),
        ("max_parameters", spec.n_parameters, settings.max_parameters, "trainable parameters"),
    )
    for name, value, maximum, what in checks:
        if value > maximum:
            raise limit_exceeded(name, value, maximum,
                                 f"the spec has {value} {what}, more than this service's limit of {maximum}")
    if spec.max_paths <= settings.max_paths:
        return spec, None
    if "max_paths" in spec.model_fields_set:
        _check_max_paths(spec.max_paths, settings)
    lowered = spec.model_copy(update={"max_paths": settings.max_paths})
    return lowered, f"max_paths lowered to the service limit {settings.max_paths}"


@router.post("/solve", response_model=JobOut, status_code=200, responses=SOLVE_RESPONSES,
             summary="Solve a layer spec: critical points and candidate weights")
async def solve_spec(spec: Annotated[NetworkSpec, Body(description="the layer spec", examples=[EXAMPLE_SPEC])],
                     caller: CallerDep, desk: DeskDep, settings: SettingsDep, wait: Wait = None) -> Response:
    spec, note = _within_limits(spec, settings)

    def precheck() -> engine.Work | None:
        if spec.mode != "exact":  # no count to make: skip the child process
            return engine.check_network_paths(spec, spec.max_paths)
        return desk.prechecker.call("check_network_paths", spec, spec.max_paths, settings.family_max_paths)

    order = Order("network", caller, engine.network_hash(spec), spec.model_dump(mode="json"), precheck, note)
    return desk.cached(order) or await desk.submit(order, wait)


def _system_precheck(system: Any, start: str, max_paths: int, desk: JobDesk) -> Precheck:
    """The path count of ``system`` from ``start`` (in the counter's child process unless
    it is the total degree), refused over ``max_paths``."""

    def precheck() -> engine.Work | None:
        if start == "total-degree":
            counted = engine.system_path_count(system, start)
        else:
            counted = desk.prechecker.call("system_path_count", system, start, max_paths)
        if counted is None:
            return None
        if counted[0] > max_paths:
            raise engine.PathLimit(counted[0], max_paths, counted[1], counted[2])
        return engine.Work(counted[0], "paths")

    return precheck


@router.post("/systems/solve", response_model=JobOut, status_code=200, responses=SOLVE_RESPONSES,
             summary="Solve a polynomial system given in PHC text")
async def solve_system(body: SystemRequest, caller: CallerDep, desk: DeskDep, settings: SettingsDep,
                       wait: Wait = None) -> Response:
    if body.max_paths is not None:
        _check_max_paths(body.max_paths, settings)
    max_paths = body.max_paths or settings.max_paths
    if len(body.system) > settings.max_system_chars:  # before the parser sees a character
        raise limit_exceeded("max_system_chars", len(body.system), settings.max_system_chars,
                             f"the system has {len(body.system)} characters, more than this service's limit "
                             f"of {settings.max_system_chars}")
    limits = settings.parse_limits()
    system = await anyio.to_thread.run_sync(engine.parse_system, body.system, limits)
    if system.n_variables > settings.max_variables:
        raise limit_exceeded("max_variables", system.n_variables, settings.max_variables,
                             f"the system has {system.n_variables} unknowns, more than this service's limit of {settings.max_variables}")
    options = {"start": body.start, "seed": body.seed, "tracker": body.tracker}
    request_json = {"system": format_system(system), "max_paths": max_paths, "limits": limits, **options}
    order = Order("system", caller, engine.system_hash(system, options), request_json,
                  _system_precheck(system, body.start, max_paths, desk))
    return desk.cached(order) or await desk.submit(order, wait)
