#!/usr/bin/env python
"""The double-double stage of the retry policy (issue 12, "precision"): what it finds and
what it costs.

Per system, ``solve(system, seed)`` (the default options, and the options of
``tests/data/hard/index.json`` where it gives some) twice in the same process: as shipped,
and with :func:`solver.engine.extended_tracking.retrack_extended` replaced by a stage that
does nothing. Reported: isolated solutions (as ``tests/test_hard_systems.py`` counts them),
paths that reached the stage (failed after the double retries) and that it finished, and
the time ratio with / without (the faster of two alternating runs each). On systems where no path fails, the stage is one count of
the failed statuses: the ratio is the noise of two runs. JIT loading excluded (a warm-up
solve of wilkinson20, whose failed paths load the kernels, runs first).

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/extended_precision.py              # seeds 0-2
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/extended_precision.py --seeds 0 --systems wilkinson20,cassou

Writes ``bench/EXTENDED_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solver.engine.extended_tracking as extended  # noqa: E402
import solver.engine.solve as solve_module  # noqa: E402
from solver.engine.examples import by_name  # noqa: E402
from solver.engine.formats.phc import parse_system  # noqa: E402
from solver.engine.local_dimension import isolated_solutions  # noqa: E402

DATA = ROOT / "tests" / "data" / "hard"
#: systems of the engine benchmark on which no path fails (the stage must cost nothing)
CLEAN = ("katsura-6", "cyclic-5", "noon-4")
STAGE = {"reached": 0, "finished": 0}
RETRACK = extended.retrack_extended


def _counting(target, starts, hom, tracked, options=extended.EXTENDED):
    STAGE["reached"] += int((tracked[1] == extended.FAILED).sum())
    done = RETRACK(target, starts, hom, tracked, options)
    STAGE["finished"] += done
    return done


def _off(target, starts, hom, tracked, options=None):
    return 0


def _run(system, seed: int, options: dict, stage) -> dict:
    extended.retrack_extended = stage  # solve imports it from there when paths failed
    STAGE.update(reached=0, finished=0)
    t0 = time.perf_counter()
    result = solve_module.solve(system, seed=seed, **options)
    seconds = time.perf_counter() - t0
    return {"isolated": len(isolated_solutions(system, result, seed=seed)), "seconds": seconds, **STAGE}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--systems", default="")
    parser.add_argument("--out", default=str(ROOT / "bench" / "EXTENDED_RESULTS.md"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    index = json.loads((DATA / "index.json").read_text())["systems"]
    cases = [(e["name"], parse_system((DATA / e["file"]).read_text()), e["solve"], e["documented"].get("isolated", e["documented"]["distinct"]))
             for e in index]
    cases += [(name, by_name(name), {}, None) for name in CLEAN]
    if args.systems:
        cases = [c for c in cases if c[0] in args.systems.split(",")]
    _run(cases[0][1] if cases[0][0] == "wilkinson20" else parse_system((DATA / "wilkinson20.phc").read_text()), 0, {}, _counting)
    rows = []
    for name, system, options, documented in cases:
        for seed in seeds:
            # alternately, twice each: the faster run of each (the machine is shared)
            runs = [_run(system, seed, options, stage) for _ in range(2) for stage in (_off, _counting)]
            off = min(runs[0::2], key=lambda r: r["seconds"])
            on = min(runs[1::2], key=lambda r: r["seconds"])
            rows.append((name, seed, options, documented, on, off))
            print(name, seed, on, off, flush=True)
    command = "NUMBA_NUM_THREADS=1 .venv/bin/python bench/extended_precision.py" + (f" --seeds {args.seeds}" if args.seeds != "0,1,2" else "")
    lines = [
        "# The double-double stage of the retry policy (issue 12)",
        "",
        f"`{command}`; NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}, the faster of two runs each (alternating) on a shared "
        f"2-core machine (load average {os.getloadavg()[0]:.1f} at the end): read the ratios. *with*: as shipped; *without*: "
        "the stage replaced by a no-op, same process. *reached*: paths still failed after the double retries "
        "(summed over the scaled re-solve where scale='auto' runs it); *finished*: those the stage took to an endpoint.",
        "",
        "| system | options | seed | documented | isolated with | isolated without | reached | finished | s with | s without | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, seed, options, documented, on, off in rows:
        opts = ", ".join(f"{k}={v}" for k, v in options.items()) or "-"
        lines.append(f"| {name} | {opts} | {seed} | {documented if documented is not None else '-'} | {on['isolated']} | {off['isolated']} | "
                     f"{on['reached']} | {on['finished']} | {on['seconds']:.2f} | {off['seconds']:.2f} | {on['seconds'] / off['seconds']:.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
