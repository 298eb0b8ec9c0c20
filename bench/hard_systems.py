#!/usr/bin/env python
"""Hard systems (issue 12): our engine and ``phc -b`` on the collection in ``tests/data/hard``.

Per system, in one run: the isolated solutions (regular, and singular ones that
:func:`solver.engine.local_dimension.isolated_solutions` does not put on a
positive-dimensional component) found by

* ``solve(system, seed)`` with the default options,
* ``solve(system, seed, **options)`` with the options ``index.json`` gives the system
  (``scale``, ``recheck_infinity``, a polyhedral start),
* ``phc -b`` (its endpoints refined and judged by the same rules as ours),

against the documented count, the wall times of the last two and their ratio, and whether
every isolated ``phc -b`` solution is among ours. JIT loading is excluded (a warm-up solve
runs first). Times are single runs on a shared machine: read the ratios, not the seconds.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/hard_systems.py          # about 1 min
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/hard_systems.py --seed 1 --systems ipp,cassou

Writes ``bench/HARD_RESULTS.md`` and ``bench/results/hard_systems.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/hard_systems.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from solver.engine.backends.phcpack import PHCpackError, solve_phc  # noqa: E402
from solver.engine.examples import by_name  # noqa: E402
from solver.engine.formats.phc import PHCParseError, parse_system  # noqa: E402
from solver.engine.local_dimension import isolated_solutions  # noqa: E402
from solver.engine.solve import solve  # noqa: E402

DATA = ROOT / "tests" / "data" / "hard"
#: same point: agreement relative to max(1, |x|)
SAME_POINT = 1e-6


def _ours(system, seed: int, options: dict) -> dict:
    t0 = time.perf_counter()
    result = solve(system, seed=seed, **options)
    seconds = time.perf_counter() - t0
    isolated = isolated_solutions(system, result, seed=seed)
    return {"isolated": len(isolated), "distinct": len(result.solutions), "paths": result.paths,
            "start": result.start_system, "seconds": seconds, "values": [s.values for s in isolated]}


def _phc(system, seed: int) -> dict:
    t0 = time.perf_counter()
    try:
        result = solve_phc(system, seed=seed, timeout=300)
    except (PHCpackError, PHCParseError) as exc:  # phc -b prints NaN coordinates on wilkinson20
        return {"error": str(exc)[:120], "seconds": time.perf_counter() - t0}
    isolated = isolated_solutions(system, result, seed=seed)
    return {"isolated": len(isolated), "distinct": len(result.solutions), "failed": result.counts["failed"],
            "seconds": result.seconds, "values": [s.values for s in isolated]}


def _missing(ours: list, theirs: list) -> int:
    """How many of ``theirs`` match none of ``ours``."""
    mine = np.array(ours)
    count = 0
    for x in theirs:
        if not len(mine) or np.abs(mine - x).max(axis=1).min() > SAME_POINT * max(1.0, np.abs(x).max()):
            count += 1
    return count


def measure(entry: dict, seed: int) -> dict:
    system = parse_system((DATA / entry["file"]).read_text())
    documented = entry["documented"]
    row = {"name": entry["name"], "hardness": entry["hardness"], "options": entry["solve"],
           "documented": documented.get("isolated", documented["distinct"]), "expected_failure": entry["expected_failure"],
           "default_gap": entry["default_gap"]}
    row["default"] = _ours(system, seed, {})
    row["with_options"] = _ours(system, seed, entry["solve"]) if entry["solve"] else row["default"]
    row["phc"] = _phc(system, seed)
    if "values" in row["phc"]:
        row["phc_missed_by_us"] = _missing(row["with_options"]["values"], row["phc"]["values"])
    for part in ("default", "with_options", "phc"):
        row[part].pop("values", None)
    return row


def _cell(part: dict) -> str:
    return str(part.get("isolated", "error"))


def markdown(rows: list[dict], command: str, seed: int) -> str:
    head = [
        "# Hard systems: our engine and phc -b (issue 12)",
        "",
        f"`{command}` on {_dt.date.today()}, {platform.node()}, Python {platform.python_version()}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}, seed {seed}; one run each, "
        "JIT loading excluded, on a shared 2-core machine (a family build ran beside it): read the ratios.",
        "",
        "Isolated = regular solutions and singular ones that `solver.engine.local_dimension` does not put on a "
        "positive-dimensional component, for us and for phc -b's endpoints alike (both refined and merged by "
        "`endpoints.collect_solutions`). *default*: `solve(system, seed)`; *options*: with the options of "
        "`tests/data/hard/index.json`. Ratio: our time with the options / phc -b's.",
        "",
        "| system | hardness | documented | ours default | ours options | options | phc -b | phc missed by us | paths (start) | ours s | phc s | ratio |",
        "|---|---|---:|---:|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    lines = []
    for r in rows:
        ours, phc = r["with_options"], r["phc"]
        opts = ", ".join(f"{k}={v}" for k, v in r["options"].items()) or "-"
        ratio = ours["seconds"] / phc["seconds"] if "isolated" in phc and phc["seconds"] > 0 else float("nan")
        lines.append(
            f"| {r['name']} | {', '.join(r['hardness'])} | {r['documented']} | {_cell(r['default'])} | {_cell(ours)} | {opts} | "
            f"{_cell(phc)} | {r.get('phc_missed_by_us', '-')} | {ours['paths']} ({ours['start']}) | {ours['seconds']:.2f} | "
            f"{phc['seconds']:.2f} | {ratio:.2f} |"
        )
    gaps = [f"- **{r['name']}**: {r['default_gap']}" for r in rows if r["default_gap"]]
    gaps += [f"- **{r['name']}**, even with its options (xfail): {r['expected_failure']}" for r in rows if r["expected_failure"]]
    notes = ["", "What the default options miss (`tests/data/hard/index.json`, `default_gap`; xfail in the test):", ""]
    notes += gaps or ["- nothing: every documented count is met with the default options."]
    errors = [f"- **{r['name']}**: {r['phc']['error']}" for r in rows if "error" in r["phc"]]
    if errors:
        notes += ["", "Where `phc -b` gave no solution list:", "", *errors]
    return "\n".join(head + lines + notes) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default="", help="comma-separated names (default: all)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "HARD_RESULTS.md"))
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "hard_systems.json"))
    args = parser.parse_args(argv)
    index = json.loads((DATA / "index.json").read_text())["systems"]
    names = [s for s in args.systems.split(",") if s]
    entries = [e for e in index if not names or e["name"] in names]
    solve(by_name("katsura-3"), seed=0, scale=True, recheck_infinity=True)  # warm-up: load the kernels
    rows = []
    for entry in entries:
        rows.append(measure(entry, args.seed))
        r = rows[-1]
        print(f"{r['name']}: documented {r['documented']}, ours {_cell(r['default'])} / {_cell(r['with_options'])}, "
              f"phc {_cell(r['phc'])}", flush=True)
    command = "NUMBA_NUM_THREADS=1 .venv/bin/python bench/hard_systems.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    Path(args.out).write_text(markdown(rows, command, args.seed))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
