"""Family jobs: the service solves a missing network family once, as a job of its own.

Exact mode solves a spec from its architecture's family (:mod:`solver.networks.family`):
the generic member's solutions, stored in a file, then one parameter homotopy per request.
When a spec's family is stored neither in the service's folder nor in the package, the
service queues a *family job* (kind ``family``, request ``{"family": "<key id>"}``) that
computes and stores it (:func:`api.engine.run_family`), and queues the caller's network
job to run after it. Whoever asks first creates the job; every later request of the same
architecture joins it while it is active (one job per :func:`family_hash`, whatever the
owner). Family jobs belong to the service (:data:`FAMILY_OWNER`), not to a key: every key
may read them (they hold no caller's data) and none may cancel them (others wait for them).

This module also lists the stored families for ``GET /families``, from the files' headers
alone: it runs in the web process, which does not load the solver (Numba, SymPy); the
solver reads and validates a file before it uses one
(:func:`solver.networks.family_store.read_generic`).
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np

import solver.networks
from api.jobs.store import Job

log = logging.getLogger("lps.families")

#: the owner of every family job
FAMILY_OWNER = "service:families"
#: the package's own families: :data:`solver.networks.family_store.SHIPPED_DIRECTORY`,
#: without importing the solver into the web process
SHIPPED_DIRECTORY = Path(solver.networks.__file__).parent / "families"
#: the file of a family in a folder (:func:`solver.networks.family_store.family_file`)
FILE_SUFFIX = ".npz"


def family_hash(family_id: str) -> str:
    """The spec hash of the family job (and of its cached result) for a family id."""
    return f"family:{family_id}"


def read_header(path: Path) -> dict | None:
    """The JSON header of a family file (format, key, method, seed, counts), or None when
    the file cannot be read as one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        log.warning("unreadable family file %s: %s", path, err)
        return None
    return header if isinstance(header, dict) and isinstance(header.get("key"), str) else None


def _entry(header: dict, source: str) -> dict:
    counts = header.get("counts") if isinstance(header.get("counts"), dict) else {}
    return {
        "id": header["key"],
        "finite": counts.get("finite"),
        "orbits": counts.get("orbits"),
        "method": header.get("method"),
        "seed": header.get("seed"),
        "source": source,
    }


def stored_families(data_directory: Path) -> list[dict]:
    """The families exact mode finds, sorted by id: the service's folder first (its file is
    the one used when both have one), then the package's.

    Parameters
    ----------
    data_directory : Path
        The service's family folder (``$LPS_FAMILY_DIR``).

    Returns
    -------
    list of dict
        ``id``, ``finite`` (the generic count), ``orbits``, ``method``, ``seed`` and
        ``source`` (``data`` or ``shipped``).
    """
    found: dict[str, dict] = {}
    for directory, source in ((Path(data_directory), "data"), (SHIPPED_DIRECTORY, "shipped")):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*" + FILE_SUFFIX)):
            header = read_header(path)
            # the file name is what the solver looks up: a header of another key is not it
            if header is not None and header["key"] + FILE_SUFFIX == path.name and header["key"] not in found:
                found[header["key"]] = _entry(header, source)
    return [found[k] for k in sorted(found)]


def family_job_view(job: Job) -> dict:
    """A family job as ``GET /families`` lists it."""
    return {
        "id": job.id,
        "family": job.request.get("family"),
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total, "unit": job.progress_unit},
        "attempts": job.attempts,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "error": job.error,
    }
