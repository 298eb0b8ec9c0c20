"""``/jobs``: the caller's jobs; ``/jobs/{job_id}``: a job's status and result, its request,
its weights, its surrogate curves (for the web page's plots), and cancelling it."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api import engine
from api.curves import surrogate_curves
from api.deps import CallerDep, DeskDep, JobDep, StoreDep, get_caller
from api.errors import ApiError
from api.jobs.listing import summary
from api.schemas import ERRORS, ErrorOut, JobList, JobOut, SurrogateCurves

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Depends(get_caller)])

_NOT_FOUND = {404: {"model": ErrorOut}, 401: ERRORS[401]}
_CONFLICT = {409: {"model": ErrorOut}}
#: what a job that is not a layer spec's did (its weights and surrogates are a 409)
_WHAT = {"system": "this job solved a polynomial system", "family": "this job solved a network family"}
_SAFETENSORS = {200: {"content": {"application/octet-stream": {}},
                      "description": "safetensors file, tensors '{k}.weight' and '{k}.bias'"}}


@router.get("", response_model=JobList, responses={401: ERRORS[401]},
            summary="The caller's most recent jobs, newest first, without their results")
async def list_jobs(caller: CallerDep, store: StoreDep,
                    limit: Annotated[int, Query(ge=1, le=500, description="most jobs to list")] = 50) -> dict:
    return {"jobs": [summary(job) for job in store.owned(caller, limit)]}


@router.get("/{job_id}", response_model=JobOut, responses=_NOT_FOUND,
            summary="A job's status, progress and result or error (the caller's jobs, and the service's family "
                    "jobs, which every key reads)")
async def job_status(job: JobDep, desk: DeskDep) -> Response:
    return desk.respond(job)


@router.get("/{job_id}/weights", response_class=Response, responses={**_SAFETENSORS, **_NOT_FOUND, **_CONFLICT},
            summary="One candidate's weights as a safetensors file")
async def job_weights(job: JobDep, desk: DeskDep,
                      candidate: Annotated[int, Query(ge=0, le=1_000_000, description="candidate index (0 = best)")] = 0,
                      dtype: Annotated[Literal["float32", "float64"], Query(description="tensor dtype in the file")] = "float32",
                      ) -> Response:
    if job.kind != "network":
        raise ApiError(409, "no_weights", f"{_WHAT[job.kind]}; only layer-spec jobs have weights")
    if job.status != "done":
        raise ApiError(409, "not_done", f"the job is {job.status}; weights exist once it is done", status=job.status)
    text = desk.store.result_text(job.spec_hash)
    result = json.loads(text) if text else {}
    try:
        data = await anyio.to_thread.run_sync(engine.weights_bytes, result, candidate, dtype)
    except IndexError as exc:
        raise ApiError(404, "no_such_candidate", str(exc), candidates=len(result.get("candidates") or [])) from None
    disposition = f'attachment; filename="{job.id}-candidate{candidate}.safetensors"'
    return Response(data, media_type="application/octet-stream", headers={"Content-Disposition": disposition})


@router.get("/{job_id}/request", response_model=dict, responses=_NOT_FOUND,
            summary="The job's request as validated (defaults filled in): the layer spec, or the system and its options")
async def job_request(job: JobDep) -> dict:
    return job.request


@router.get("/{job_id}/surrogates", response_model=SurrogateCurves, responses={**_NOT_FOUND, **_CONFLICT},
            summary="Each layer's activation and surrogate, sampled on the surrogate's interval, with the fit errors")
async def job_surrogates(job: JobDep) -> dict:
    if job.kind != "network":
        raise ApiError(409, "no_surrogates", f"{_WHAT[job.kind]}; only layer-spec jobs have surrogates")
    return {"layers": await anyio.to_thread.run_sync(surrogate_curves, job.request)}


@router.delete("/{job_id}", response_model=JobOut, responses={**_NOT_FOUND, **_CONFLICT},
               summary="Cancel a queued or running job (only the key that submitted it: another key's job is 404, "
                       "a family job, which others wait for, 409)")
async def cancel_job(job: JobDep, desk: DeskDep) -> Response:
    if desk.store.cancel(job.id) is None:
        raise ApiError(409, "not_active", f"the job is already {job.status}; only queued or running jobs can be cancelled",
                       status=job.status)
    desk.runner.notify()
    return desk.respond(desk.store.get(job.id))
