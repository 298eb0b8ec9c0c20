"""``GET /families``: the network families exact mode finds stored, and the family jobs.

A family job solves, once, the generic member of an architecture no request found stored
(:mod:`api.jobs.families`); it is read at ``GET /jobs/{id}`` by every key.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query

from api.deps import FamilyDirDep, StoreDep, get_caller
from api.jobs.families import family_job_view, stored_families
from api.schemas import ERRORS, FamiliesOut

router = APIRouter(prefix="/families", tags=["families"], dependencies=[Depends(get_caller)])


@router.get("", response_model=FamiliesOut, responses={401: ERRORS[401]},
            summary="The stored network families (exact mode solves from them; shipped or solved by this "
                    "service) and the family jobs, active or recent")
async def list_families(store: StoreDep, family_dir: FamilyDirDep,
                        jobs: Annotated[int, Query(ge=0, le=500, description="most family jobs to list")] = 50,
                        ) -> dict:
    stored = await anyio.to_thread.run_sync(stored_families, family_dir)
    return {"stored": stored, "jobs": [family_job_view(job) for job in store.recent("family", jobs)]}
