"""``lps solve`` of several files in one process, and what a cold ``lps solve`` imports.

The command runs in this process through :func:`solver.cli.main.main` (the entry point of
the ``lps`` script, exit status and stderr included), except the import check, which
needs a fresh interpreter. Oracles: closed-form solution counts (katsura-3: 8, its Bezout
number, all finite; a circle cut by a line: 2; x^3 = 8: 3), single-file runs of the same
command, and the interpreter's own ``-X importtime`` report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from solver.cli.main import main
from solver.engine.examples import by_name
from solver.engine.formats.phc import format_system

KNOWN = {"katsura-3": 8, "circle": 2, "cubic": 3}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """katsura-3, a circle and a line, x^3 = 8, a malformed file and a missing one."""
    d = tmp_path_factory.mktemp("multi")
    texts = {
        "katsura-3": format_system(by_name("katsura-3")),
        "circle": "2\n x^2 + y^2 - 1;\n x - y;\n",
        "cubic": "1\n x^3 - 8;\n",
        "bad": "2\n x^2 + y^2 - 1;\n x - * y;\n",
    }
    paths = {name: d / f"{name}.phc" for name in texts}
    for name, text in texts.items():
        paths[name].write_text(text)
    paths["missing"] = d / "missing.phc"
    return paths


def lps(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """``lps ARGS`` in this process: exit status, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_several_files_give_a_list_that_agrees_with_single_runs(files: dict[str, Path], capsys) -> None:
    names = ["katsura-3", "circle", "cubic"]
    code, out, err = lps(capsys, "solve", *(str(files[n]) for n in names), "--json", "-", "--quiet")
    assert code == 0, err
    entries = json.loads(out)
    assert isinstance(entries, list) and [e["file"] for e in entries] == [str(files[n]) for n in names]
    for name, entry in zip(names, entries):
        code, out, err = lps(capsys, "solve", str(files[name]), "--json", "-", "--quiet")
        assert code == 0, err
        alone = json.loads(out)
        assert isinstance(alone, dict) and "file" not in alone  # one file: one object, as before
        assert len(entry["solutions"]) == len(alone["solutions"]) == KNOWN[name]
        assert entry["counts"] == alone["counts"] and entry["paths"] == alone["paths"]


def test_a_bad_file_among_good_ones_is_an_error_entry_and_exit_2(files: dict[str, Path], tmp_path: Path,
                                                                 capsys) -> None:
    order = ["circle", "bad", "cubic", "missing"]
    out_file = tmp_path / "out.json"
    code, _, err = lps(capsys, "solve", *(str(files[n]) for n in order), "--json", str(out_file), "--quiet")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lps: 2 of 4 files failed")
    assert str(files["bad"]) in lines[0] and "line 3, column" in lines[0] and "cannot read" in lines[0]
    entries = json.loads(out_file.read_text())
    assert [e["file"] for e in entries] == [str(files[n]) for n in order]
    assert len(entries[0]["solutions"]) == KNOWN["circle"] and len(entries[2]["solutions"]) == KNOWN["cubic"]
    assert set(entries[1]) == {"file", "error"} and "line 3, column" in entries[1]["error"]
    assert set(entries[3]) == {"file", "error"} and "cannot read" in entries[3]["error"]


def test_text_output_names_each_file(files: dict[str, Path], capsys) -> None:
    code, out, err = lps(capsys, "solve", str(files["circle"]), str(files["cubic"]), "--quiet")
    assert code == 0, err
    summaries = [line for line in out.splitlines() if "distinct finite solutions" in line]
    assert summaries[0].startswith(f"{files['circle']}: ") and "2 distinct finite solutions" in summaries[0]
    assert summaries[1].startswith(f"{files['cubic']}: ") and "3 distinct finite solutions" in summaries[1]


def test_standard_input_only_once(capsys) -> None:
    code, _, err = lps(capsys, "solve", "-", "-")
    assert code == 2 and "standard input" in err


def test_a_small_solve_imports_no_heavy_optional_package(files: dict[str, Path]) -> None:
    """Neither torch nor the service's packages (nor pydantic, sympy, python-flint or the
    network room) are imported by a new ``lps solve`` process on a small system."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "solver.cli", "solve", str(files["circle"]),
                           "--quiet"], capture_output=True, text=True, env={**os.environ, "NUMBA_NUM_THREADS": "1"},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    modules = set(re.findall(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", proc.stderr))
    assert "solver.engine.solve" in modules  # the report is read right
    top = {m.split(".")[0] for m in modules}
    assert not top & {"torch", "fastapi", "starlette", "uvicorn", "pydantic", "sympy", "flint", "dask"}
    assert not {m for m in modules if m.startswith(("solver.networks", "solver.init", "solver.engine.certify"))}
