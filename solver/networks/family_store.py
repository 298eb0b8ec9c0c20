"""The store of families: every regular finite solution of one generic member per
architecture, computed once and kept on disk.

Every spec of one architecture is a member of one family ``F(theta; P)``
(:mod:`solver.networks.family`); the isolated solutions of a member are the ends of
parameter-homotopy paths from the generic member's solutions (Morgan and Sommese,
"Coefficient-parameter polynomial continuation", Appl. Math. Comput. 29, 1989; Sommese and
Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, ch. 7). This module
computes those generic solutions (:func:`compute_generic`) and keeps them in files:

* the linear-product start system (complete with probability one) when its path count
  fits a budget, then a few monodromy loops from its solutions as a cross-check that
  adds any solution a failed path lost;
* otherwise monodromy alone from seed pairs (Duff, Hill, Jensen, Lee, Leykin, Sommars,
  "Solving polynomial systems via homotopy continuation and monodromy", IMA J. Numer.
  Anal. 39(3), 2019, doi:10.1093/imanum/drx067), with the hidden-neuron permutation
  group (:mod:`solver.networks.family_seed`, :mod:`solver.engine.monodromy`).

A file is ``<key id>.npz`` (compressed): a JSON header (format, key, method, seed,
counts) and the complex128 arrays ``parameters`` and ``solutions``. Files are written
atomically (a temporary file in the same folder, then :func:`os.replace`), so a reader
never sees half a file. Reading validates everything (the key, the shapes, and every
solution's relative residual on the member the file claims); a file that fails is
skipped with a log message, never an exception, so that the caller recomputes.

The folders: :data:`SHIPPED_DIRECTORY` (the package's own, built by
``scripts/build_families.py``) and :func:`default_directory` (``$LPS_FAMILY_DIR``, else
``~/.cache/lps-init/families``; the service points it into its data folder).
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from solver.engine.endpoints import CLUSTER_TOLERANCE, RESIDUAL_TOLERANCE, cluster
from solver.engine.monodromy import MonodromyResult, monodromy_solve, regular_points
from solver.engine.solve import solve
from solver.engine.start_systems.choice import TooManyPaths
from solver.errors import LpsError
from solver.networks.family import FamilyKey, family_of, random_parameters
from solver.networks.family_seed import permutation_orbits, seed_solutions

log = logging.getLogger(__name__)

#: the package's own families (see scripts/build_families.py)
SHIPPED_DIRECTORY: Path = Path(__file__).parent / "families"
#: bump when the file layout changes; older files are then refused and recomputed
FORMAT = 1
#: after a linear-product solve, loops of monodromy without news that end the cross-check
CHECK_LOOPS = 2

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class GenericSolutions:
    """The regular finite solutions of one generic member of a family.

    Attributes
    ----------
    key : FamilyKey
    parameters : complex ndarray (n_parameters,)
        The generic member ``p0``.
    solutions : complex ndarray (k, n_theta)
        Every isolated regular finite solution of ``F(.; p0)`` found.
    method : str
        ``"linear-product"`` or ``"monodromy"``.
    seed : int
        Seeds ``p0`` and every random choice of the solve.
    counts : dict
        ``paths`` tracked, ``finite`` (= k), ``orbits``, ``loops``, ``seconds``,
        ``linear_product`` (the start system's path count, when known) and, for a
        linear-product solve, ``linear_product_finite`` (before the monodromy check) and
        ``failed`` paths.
    """

    key: FamilyKey
    parameters: np.ndarray
    solutions: np.ndarray
    method: str
    seed: int
    counts: dict = field(default_factory=dict)


def default_directory() -> Path:
    """``$LPS_FAMILY_DIR``, else ``~/.cache/lps-init/families``."""
    env = os.environ.get("LPS_FAMILY_DIR")
    return Path(env) if env else Path.home() / ".cache" / "lps-init" / "families"


def family_file(key: FamilyKey, directory: Path) -> Path:
    """Where the family of ``key`` lives in ``directory``."""
    return Path(directory) / f"{key.id}.npz"


# -- writing and reading -------------------------------------------------------------------
def save_generic(g: GenericSolutions, directory: Path) -> Path:
    """Write ``g`` to ``directory/<key id>.npz`` atomically; returns the path.

    Parameters
    ----------
    g : GenericSolutions
    directory : Path
        Created if missing.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, "key": g.key.id, "method": g.method, "seed": int(g.seed), "counts": _plain(g.counts)}
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        header=np.frombuffer(json.dumps(header, sort_keys=True).encode(), np.uint8),
        parameters=np.asarray(g.parameters, np.complex128),
        solutions=np.asarray(g.solutions, np.complex128),
    )
    target = family_file(g.key, directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{g.key.id}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # shared by every caller and shipped: mkstemp's 0600 is too tight
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _plain(counts: dict) -> dict:
    """Counts as JSON values (NumPy scalars to Python numbers)."""
    return {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in counts.items()}


class StoreError(LpsError, ValueError):
    """A family file that cannot be used (logged by :func:`load_generic`, never raised to
    its caller)."""


def read_generic(path: Path, key: FamilyKey) -> GenericSolutions:
    """Read and validate one file for ``key``.

    Raises
    ------
    StoreError
        Unreadable, truncated, another key, wrong shapes or dtypes, or a solution that
        does not solve the member it claims (relative residual above
        :data:`~solver.engine.endpoints.RESIDUAL_TOLERANCE`), or two rows that are one point.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            parameters, solutions = z["parameters"], z["solutions"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise StoreError(f"{path}: unreadable ({type(err).__name__}: {err})") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key.id:
        raise StoreError(f"{path}: not a format-{FORMAT} file of family {key.id}")
    _check_arrays(path, key, parameters, solutions)
    counts = header.get("counts") if isinstance(header.get("counts"), dict) else {}
    method, seed = header.get("method"), header.get("seed")
    if method not in ("linear-product", "monodromy") or not isinstance(seed, int):
        raise StoreError(f"{path}: bad method or seed in the header")
    return GenericSolutions(key, parameters, solutions, method, seed, counts)


def _check_arrays(path: Path, key: FamilyKey, parameters: np.ndarray, solutions: np.ndarray) -> None:
    """Shapes and dtypes fit the family; every row solves the member, once."""
    family = family_of(key)
    n_theta = len(family.variables)
    if parameters.dtype != np.complex128 or parameters.shape != (family.n_parameters,):
        raise StoreError(f"{path}: parameters {parameters.dtype}{parameters.shape}, expected complex128({family.n_parameters},)")
    if solutions.dtype != np.complex128 or solutions.ndim != 2 or solutions.shape[1] != n_theta or solutions.shape[0] < 1:
        raise StoreError(f"{path}: solutions {solutions.dtype}{solutions.shape}, expected complex128(k, {n_theta})")
    if not (np.isfinite(parameters).all() and np.isfinite(solutions).all()):
        raise StoreError(f"{path}: non-finite values")
    residual = family.system(parameters).relative_residuals(solutions).max()
    if not residual <= RESIDUAL_TOLERANCE:
        raise StoreError(f"{path}: a stored solution has relative residual {residual:.3g}")
    if cluster(solutions, CLUSTER_TOLERANCE).max() + 1 != solutions.shape[0]:
        raise StoreError(f"{path}: repeated solutions")


def load_generic(key: FamilyKey, directories: Sequence[Path] | None = None) -> GenericSolutions | None:
    """The first valid stored family of ``key``, or None.

    Parameters
    ----------
    key : FamilyKey
    directories : sequence of Path, optional
        Searched in order; default ``[default_directory(), SHIPPED_DIRECTORY]``. A file that
        fails validation (:func:`read_generic`) is logged and skipped.
    """
    for directory in [default_directory(), SHIPPED_DIRECTORY] if directories is None else directories:
        path = family_file(key, Path(directory))
        try:
            stat = path.stat()
        except OSError:
            continue
        if not path.is_file():
            continue
        # the in-process cache: a file is read and validated once while it is unchanged
        tag = (str(path.resolve()), key.id, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if tag in _READ:
            _READ.move_to_end(tag)
            return _READ[tag]
        try:
            found = read_generic(path, key)
        except StoreError as err:
            log.warning("family file refused, it will be recomputed: %s", err)
            continue
        for array in (found.parameters, found.solutions):
            array.setflags(write=False)  # shared by every later caller of this process
        _READ[tag] = found
        while len(_READ) > READ_CACHE_SIZE:
            _READ.popitem(last=False)
        return found
    return None


#: families kept in memory by :func:`load_generic` (least recently used dropped first)
READ_CACHE_SIZE = 16
_READ: "OrderedDict[tuple, GenericSolutions]" = OrderedDict()


# -- computing -----------------------------------------------------------------------------
def _linear_product(key: FamilyKey, seed: int, budget: int, progress: Progress | None) -> GenericSolutions | None:
    """The linear-product solve of a random complex member, cross-checked by monodromy
    loops from its solutions; None when its path count exceeds ``budget``."""
    family = family_of(key)
    rng = np.random.default_rng(seed)
    p0 = random_parameters(family, rng)
    t0 = time.perf_counter()
    try:
        res = solve(family.system(p0), start="linear-product", seed=seed, max_paths=budget, progress=progress)
    except TooManyPaths:
        return None
    found = regular_points(res.solutions, len(res.variables))
    check = monodromy_solve(family, p0, found, rng, permutation_orbits(key), stall_loops=CHECK_LOOPS)
    counts = {
        "paths": res.paths + check.paths,
        "linear_product": res.root_counts.get("linear_product"),
        "linear_product_finite": int(found.shape[0]),
        "failed": int(res.counts["failed"]),
        "singular": int(res.counts["singular"]),
        "at_infinity": int(res.counts["at_infinity"]),
    }
    return GenericSolutions(key, p0, check.solutions, "linear-product", seed, _finish(counts, check, t0))


def _finish(counts: dict, mono: MonodromyResult, t0: float) -> dict:
    """The counts every method reports."""
    counts.update(finite=int(mono.solutions.shape[0]), orbits=mono.orbits, loops=mono.loops, seconds=round(time.perf_counter() - t0, 3))
    return counts


def _monodromy(key: FamilyKey, seed: int, progress: Progress | None, stall_loops: int, max_paths: int) -> GenericSolutions:
    """Monodromy from one seed pair per stratum (see :mod:`solver.networks.family_seed`)."""
    family = family_of(key)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    p0, seeds = seed_solutions(family, rng)
    mono = monodromy_solve(
        family, p0, seeds, rng, permutation_orbits(key), stall_loops=stall_loops, max_paths=max_paths, progress=progress
    )
    counts = {"paths": mono.paths, "seeds": int(seeds.shape[0]), "stopped": mono.stopped, "linear_product": None}
    return GenericSolutions(key, p0, mono.solutions, "monodromy", seed, _finish(counts, mono, t0))


def compute_generic(
    key: FamilyKey,
    seed: int = 0,
    max_linear_product_paths: int = 20_000,
    progress: Progress | None = None,
    method: str = "auto",
    stall_loops: int = 5,
    max_monodromy_paths: int = 2_000_000,
) -> GenericSolutions:
    """Every regular finite solution of a random complex member of ``key``'s family.

    Parameters
    ----------
    key : FamilyKey
    seed : int
        Seeds the member and the solve.
    max_linear_product_paths : int
        ``"auto"`` solves by the linear-product start when it has at most this many paths,
        else by monodromy.
    progress : callable(done, total), optional
        Paths done (linear product: of its path count; monodromy: of ``max_monodromy_paths``).
    method : {"auto", "linear-product", "monodromy"}
    stall_loops : int
        Monodromy stops after this many loops in a row that add nothing.
    max_monodromy_paths : int
        Monodromy's path budget.

    Returns
    -------
    GenericSolutions
    """
    if method not in ("auto", "linear-product", "monodromy"):
        raise ValueError(f"unknown method {method!r}")
    if method != "monodromy":
        budget = max_linear_product_paths if method == "auto" else 10**12
        found = _linear_product(key, seed, budget, progress)
        if found is not None:
            return found
    return _monodromy(key, seed, progress, stall_loops, max_monodromy_paths)


def generic_solutions_for(
    key: FamilyKey, directory: Path | None = None, progress: Progress | None = None, **kw
) -> tuple[GenericSolutions, bool]:
    """The generic solutions of ``key``: stored ones, else computed and stored.

    Parameters
    ----------
    key : FamilyKey
    directory : Path, optional
        Searched first (then :data:`SHIPPED_DIRECTORY`) and written to; default
        :func:`default_directory`.
    progress : callable(done, total), optional
    **kw
        Passed to :func:`compute_generic`.

    Returns
    -------
    (GenericSolutions, bool)
        The solutions and whether they came from a file.
    """
    directory = default_directory() if directory is None else Path(directory)
    found = load_generic(key, [directory, SHIPPED_DIRECTORY])
    if found is not None:
        return found, True
    g = compute_generic(key, progress=progress, **kw)
    try:
        save_generic(g, directory)
    except OSError as err:  # a read-only cache still answers, it only recomputes next time
        log.warning("could not store family %s in %s: %s", key.id, directory, err)
    return g, False
