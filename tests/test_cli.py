"""The ``lps solve`` command, run as a user runs it: a subprocess of the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from solver.engine.examples import by_name
from solver.engine.formats.phc import format_system, parse_system

LPS = [sys.executable, "-m", "solver.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LPS, *args], capture_output=True, text=True, input=stdin, timeout=300)


@pytest.fixture()
def circle(tmp_path: Path) -> Path:
    path = tmp_path / "circle.phc"
    path.write_text("2\n x^2 + y^2 - 1;\n x - y;\n")
    return path


def test_solve_json_to_stdout(circle: Path) -> None:
    proc = run("solve", str(circle), "--json", "-")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["variables"] == ["x", "y"]
    assert out["paths"] == 2 and out["counts"]["regular"] == 2 and out["counts"]["real"] == 2
    assert {"total_degree", "linear_product", "mixed_volume", "start_choice"} <= set(out["root_counts"])
    values = sorted(s["re"][0] for s in out["solutions"])
    assert np.allclose(values, [-np.sqrt(0.5), np.sqrt(0.5)], atol=1e-14)
    for s in out["solutions"]:
        assert s["status"] == "regular" and s["multiplicity"] == 1 and s["real"] is True
        assert s["residual"] < 1e-12 and s["im"] == [0.0, 0.0]
    assert out["seconds"] >= 0


def test_solve_katsura_file_with_json_output(tmp_path: Path) -> None:
    src = tmp_path / "k4.phc"
    src.write_text(format_system(by_name("katsura-4")))
    out_file = tmp_path / "out.json"
    proc = run("solve", str(src), "--start", "total-degree", "--seed", "3", "--json", str(out_file))
    assert proc.returncode == 0, proc.stderr
    assert "16 distinct finite solutions" in proc.stdout
    out = json.loads(out_file.read_text())
    system = parse_system(src.read_text())
    values = np.array([np.array(s["re"]) + 1j * np.array(s["im"]) for s in out["solutions"]])
    assert values.shape == (16, 5)
    assert system.relative_residuals(values).max() < 1e-10


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2\n x^2 + y^2 - 1;\n x - * y;\n", "line 3, column"),
        ("2\n x^2 + (y - 1;\n x - y;\n", "line 2"),
        ("2\n x^2 + y^2 - 1;\n x - y\n", "line"),
    ],
)
def test_malformed_text_names_line_and_column(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.phc"
    path.write_text(text)
    proc = run("solve", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr


def test_non_square_system_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "ns.phc"
    path.write_text("2 3\n x + y + z - 1;\n x - y;\n")
    proc = run("solve", str(path))
    assert proc.returncode == 2 and "not square" in proc.stderr and "Traceback" not in proc.stderr


def test_too_many_paths_refused_with_count(tmp_path: Path) -> None:
    path = tmp_path / "c5.phc"
    path.write_text(format_system(by_name("cyclic-5")))
    proc = run("solve", str(path), "--start", "total-degree", "--max-paths", "50")
    assert proc.returncode == 2 and "120 paths" in proc.stderr and "max_paths=50" in proc.stderr


def test_unknown_option_and_missing_file_exit_2(circle: Path, tmp_path: Path) -> None:
    proc = run("solve", str(circle), "--bogus")
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr
    proc = run("solve", str(circle), "--start", "magic")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = run("solve", str(tmp_path / "nope.phc"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_reads_standard_input() -> None:
    proc = run("solve", "-", "--json", "-", stdin="1\n x^3 - 8;\n")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["solutions"]) == 3 and out["counts"]["real"] == 1


def _plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Make ``lps`` load one plug-in module with ``body`` instead of the service's."""
    import importlib

    cli_main = importlib.import_module("solver.cli.main")  # the module: solver.cli.main is also the function's name
    (tmp_path / "lps_test_plugin.py").write_text(body + "\ndef add(sub):\n    sub.add_parser('extra')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lps_test_plugin", raising=False)
    monkeypatch.setattr(cli_main, "_PLUGINS", (("lps_test_plugin", "add"),))


def test_plugin_loader_registers_and_skips_only_a_missing_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from solver.cli.main import build_parser

    _plugin(tmp_path, monkeypatch, "")
    assert build_parser().parse_args(["extra"]).command == "extra"
    _plugin(tmp_path, monkeypatch, "raise ModuleNotFoundError(\"No module named 'uvicorn'\", name='uvicorn')")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["extra"])  # skipped: no such command
    assert build_parser().parse_args(["demo"]).command == "demo"


def test_plugin_loader_never_hides_our_own_import_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from solver.cli.main import build_parser

    _plugin(tmp_path, monkeypatch, "import solver.engine.no_such_module_of_ours")
    with pytest.raises(ModuleNotFoundError, match="no_such_module_of_ours"):
        build_parser()
    _plugin(tmp_path, monkeypatch, "from solver.engine.solve import no_such_name")
    with pytest.raises(ImportError, match="no_such_name"):
        build_parser()


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from solver.cli import solve as cli_solve
    from solver.cli.main import main

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_solve, "cmd_demo", interrupted)
    assert main(["demo"]) == 130
    assert capsys.readouterr().err == "lps: interrupted\n"


def test_a_reader_that_leaves_early_gets_no_traceback(circle: Path) -> None:
    """``lps solve ... | head -n 1``: the pipe closes under the writer; lps ends quietly."""
    proc = subprocess.Popen([*LPS, "solve", *[str(circle)] * 300], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().startswith(str(circle).encode())
    proc.stdout.close()  # the reader is gone before most of the report is written
    _, err = proc.communicate(timeout=300)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 0
