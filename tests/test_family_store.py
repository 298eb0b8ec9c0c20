"""The store of families (solver.networks.family_store): round trip, refusal of corrupt or
foreign files, recomputation, and the shipped files.

Oracles: a stored solution must solve the member it claims (relative residual on
``family_of(key).system(parameters)``, built independently of the file); a shipped
linear-product family must not have gained solutions in its monodromy cross-check
(two independent methods agree on the count).
"""

from __future__ import annotations

import json
import os
import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from solver.engine.endpoints import RESIDUAL_TOLERANCE
from solver.networks.family import FamilyKey, family_of
from solver.networks.family_seed import permutation_orbits
from solver.networks.family_store import (
    SHIPPED_DIRECTORY,
    GenericSolutions,
    compute_generic,
    default_directory,
    family_file,
    generic_solutions_for,
    load_generic,
    save_generic,
)

KEY = FamilyKey.parse("1-1-1.b11.d21")
OTHER = FamilyKey.parse("2-1-1.b11.d21")
#: not shipped, solved in about a second: the recompute tests need a family with no fallback
UNSHIPPED = FamilyKey.parse("1-1-1.b10.d21")
#: generic counts measured by both the linear-product start and monodromy (tests/test_monodromy.py)
KNOWN_COUNTS = {"1-1-1.b11.d21": 33, "2-1-1.b11.d21": 105, "1-2-1.b11.d21": 465}
#: what scripts/build_families.py computed and the package ships (see its output in the commit)
SHIPPED_KEYS = ("1-1-1.b11.d21", "2-1-1.b11.d21", "1-2-1.b11.d21", "3-1-1.b11.d21", "1-1-1.b11.d31", "2-1-1.b11.d31",
                "3-1-1.b11.d31", "1-3-1.b11.d21", "2-2-1.b11.d21", "1-1-1-1.b111.d221")


def shipped(key: FamilyKey) -> GenericSolutions:
    g = load_generic(key, [SHIPPED_DIRECTORY])
    assert g is not None, f"the shipped family {key.id} does not load"
    return g


def _rewrite(path: Path, **changes) -> None:
    """Rewrite an npz family file with some arrays or header fields replaced."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(bytes(arrays["header"]).decode())
    header.update(changes.pop("header", {}))
    arrays.update(changes)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    path.unlink()
    np.savez_compressed(path, **arrays)


def test_round_trip_keeps_everything(tmp_path):
    g = shipped(KEY)
    path = save_generic(g, tmp_path / "new" / "folder")
    assert path == family_file(KEY, tmp_path / "new" / "folder")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    back = load_generic(KEY, [path.parent])
    assert back is not None
    assert back.key == KEY and back.method == g.method and back.seed == g.seed and back.counts == g.counts
    assert back.parameters.dtype == np.complex128 and np.array_equal(back.parameters, g.parameters)
    assert np.array_equal(back.solutions, g.solutions)


def _corruptions(tmp_path: Path) -> dict[str, Path]:
    """One folder per way a file can be wrong, each holding a file named for KEY."""
    out = {}
    source = family_file(KEY, SHIPPED_DIRECTORY)
    for name in ("truncated", "wrong key", "not solutions", "renamed other", "not a zip", "header missing"):
        d = tmp_path / name.replace(" ", "_")
        d.mkdir()
        out[name] = d
        shutil.copy(source, family_file(KEY, d))
    target = lambda name: family_file(KEY, out[name])  # noqa: E731
    data = source.read_bytes()
    target("truncated").write_bytes(data[: len(data) // 2])
    _rewrite(target("wrong key"), header={"key": "1-1-1.b11.d31"})
    sols = shipped(KEY).solutions
    _rewrite(target("not solutions"), solutions=sols + 1e-3 * (1 + np.abs(sols)))
    shutil.copy(family_file(OTHER, SHIPPED_DIRECTORY), target("renamed other"))
    target("not a zip").write_bytes(b"\x00" * 100)
    with zipfile.ZipFile(target("header missing"), "w") as z:
        z.writestr("parameters.npy", b"junk")
    return out


def test_corrupt_or_foreign_files_are_refused_with_a_log_line(tmp_path, caplog):
    for name, folder in _corruptions(tmp_path).items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="solver.networks.family_store"):
            assert load_generic(KEY, [folder]) is None, name
        assert any("refused" in r.getMessage() for r in caplog.records), name


def test_a_refused_file_falls_through_to_the_next_folder(tmp_path):
    folder = _corruptions(tmp_path)["not solutions"]
    g = load_generic(KEY, [folder, SHIPPED_DIRECTORY])
    assert g is not None and np.array_equal(g.solutions, shipped(KEY).solutions)


def test_generic_solutions_for_recomputes_and_overwrites_a_corrupt_file(tmp_path):
    assert not family_file(UNSHIPPED, SHIPPED_DIRECTORY).exists()
    g, cached = generic_solutions_for(UNSHIPPED, tmp_path)
    assert not cached
    path = family_file(UNSHIPPED, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # truncated
    g2, cached = generic_solutions_for(UNSHIPPED, tmp_path)
    assert not cached and g2.solutions.shape == g.solutions.shape
    g3, cached = generic_solutions_for(UNSHIPPED, tmp_path)
    assert cached and np.array_equal(g3.solutions, g2.solutions)
    # the recomputed file is whole and valid
    assert load_generic(UNSHIPPED, [tmp_path]) is not None


def test_a_file_is_read_once_per_process_until_it_changes(tmp_path):
    path = save_generic(shipped(KEY), tmp_path)
    first = load_generic(KEY, [tmp_path])
    assert load_generic(KEY, [tmp_path]) is first  # the in-process cache
    assert not first.solutions.flags.writeable  # shared, so nobody may change it
    _rewrite(path, solutions=shipped(KEY).solutions + 1e-3)  # now wrong: must be re-read and refused
    os.utime(path, ns=(1, 1))  # a time of its own, however coarse the file system's clock
    assert load_generic(KEY, [tmp_path]) is None
    save_generic(shipped(KEY), tmp_path)
    os.utime(path, ns=(2, 2))
    again = load_generic(KEY, [tmp_path])
    assert again is not None and again is not first and np.array_equal(again.solutions, first.solutions)


def test_default_directory_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LPS_FAMILY_DIR", str(tmp_path))
    assert default_directory() == tmp_path
    save_generic(shipped(KEY), tmp_path)
    assert load_generic(KEY) is not None
    monkeypatch.delenv("LPS_FAMILY_DIR")
    assert default_directory() == Path.home() / ".cache" / "lps-init" / "families"


def test_compute_generic_refuses_an_unknown_method():
    with pytest.raises(ValueError):
        compute_generic(KEY, method="newton")


@pytest.mark.parametrize("key_id", SHIPPED_KEYS)
def test_shipped_families_load_and_validate(key_id):
    key = FamilyKey.parse(key_id)
    g = shipped(key)
    fam = family_of(key)
    assert g.solutions.shape == (g.counts["finite"], len(fam.variables))
    assert fam.system(g.parameters).relative_residuals(g.solutions).max() <= RESIDUAL_TOLERANCE
    if key_id in KNOWN_COUNTS:
        assert g.solutions.shape[0] == KNOWN_COUNTS[key_id]
    if g.method == "linear-product":
        # the monodromy cross-check adds at most one solution per failed linear-product path
        # (3-1-1 at degree 3: 34 failed, 6 added), and nothing when no path failed
        added = g.counts["finite"] - g.counts["linear_product_finite"]
        assert 0 <= added <= g.counts["failed"]
    else:  # monodromy: stopped by its rule, and the set is whole orbits of the neuron permutations
        assert g.method == "monodromy" and g.counts["stopped"] == "stalled"
        images = np.vstack([permutation_orbits(key)(x) for x in g.solutions])
        tree = cKDTree(np.hstack([g.solutions.real, g.solutions.imag]))
        d, _ = tree.query(np.hstack([images.real, images.imag]), p=np.inf)
        assert (d <= 1e-6 * (1 + np.abs(images).max(axis=1))).all()


def test_every_shipped_file_is_small_and_named_for_its_key():
    files = sorted(SHIPPED_DIRECTORY.glob("*.npz"))
    assert {p.stem for p in files} >= set(SHIPPED_KEYS)
    for p in files:
        assert p.stat().st_size < 2_000_000, p
        assert load_generic(FamilyKey.parse(p.stem), [SHIPPED_DIRECTORY]) is not None, p
