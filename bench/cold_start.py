#!/usr/bin/env python
"""Cold start: a new ``lps solve`` process against ``phc -b`` (issue 12, "Cold start").

Everything is measured in one run, interleaved (ours, ours before, phc, ours, ...) so that
the load of the shared machine hits every side alike; medians of ``--repeats``:

Ours is the code of commit ``--after`` (default ``HEAD``) and, for comparison, of
``--before`` (default the commit before the cold-start change), each extracted by ``git
archive`` into a temporary tree put first on ``PYTHONPATH``, with a copy of the working
tree's Numba cache (its entries are keyed by a hash of the source text, so unchanged
kernels load from it; a warm-up run compiles any other before anything is timed). Edits
in progress in the working tree do not disturb the run.

1. **Cold wall time.** ``lps solve --quiet --json OUT FILE`` as a new process (the
   installed ``lps`` script, ``NUMBA_NUM_THREADS=1``), against ``phc -b -0 IN OUT`` as a new
   process (one thread, PHCpack's fixed seed, a fresh copy of the input each time: phc
   appends its solutions to it), on katsura-5 and cyclic-5
   (:func:`solver.engine.examples.by_name`, written by
   :func:`solver.engine.formats.phc.format_system`). Ratio ours / phc (target: at most 2).
2. **Where a cold run's time goes**, in CPU time of a fresh process: Python's start, the
   command line's imports (parser built, engine imported), phcpy's mixed volume (the root
   count the command reports), the first solve (it loads the compiled kernels), a second,
   warm solve of the same system in the same process; what each library adds to a
   process's start; the interpreter's shutdown after ``lps solve``.
3. **Import time by package** (``python -X importtime``, self times summed per top-level
   package, median of 3) of the whole ``lps solve FILE``, before and after.
4. **Several files in one process**: ``lps solve F1 ... FN`` against N ``lps solve Fi``
   processes and N ``phc -b`` processes, one after the other; the solution counts.

Run::

    .venv/bin/python bench/cold_start.py                      # 7 repeats (about 2 min)
    .venv/bin/python bench/cold_start.py --repeats 3 --after HEAD --before f23c587

Writes ``bench/COLD_RESULTS.md`` (the tables and the command) and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/cold_start.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from solver.engine.examples import by_name  # noqa: E402
from solver.engine.formats.phc import format_system  # noqa: E402

SYSTEMS = ("katsura-5", "cyclic-5")
#: the files of the several-files run
MULTI = ("katsura-5", "cyclic-5", "katsura-4", "noon-3", "eco-6", "eco-5")
#: the commit before the cold-start change: its command line is the "before" column
BEFORE = "f23c587"
LPS = str(Path(sys.executable).with_name("lps"))
ENV = {**os.environ, "NUMBA_NUM_THREADS": "1"}
#: packages a small `lps solve` must not import
HEAVY = ("torch", "fastapi", "uvicorn", "flint", "sympy", "pydantic", "dask", "scipy.special")

# a fresh process: the command line's imports, phcpy's mixed volume, a cold and a warm
# solve, in CPU seconds of the process
PHASES = """
import json, sys, time
t0 = time.process_time()
from solver.cli.main import build_parser
build_parser("solve")
import solver.engine.solve
t1 = time.process_time()
from solver.engine.formats.phc import parse_system
from solver.engine.start_systems.choice import mixed_volume_count
system = parse_system(open(sys.argv[1]).read())
mixed_volume_count(system)
t2 = time.process_time()
solver.engine.solve.solve(system, mixed_volume=False)
t3 = time.process_time()
solver.engine.solve.solve(system, mixed_volume=False)
t4 = time.process_time()
import gc
from numba.core.dispatcher import Dispatcher
kernels = sorted(d.__name__ for d in gc.get_objects() if isinstance(d, Dispatcher) and d.overloads)
print(json.dumps({"imports": t1 - t0, "mixed_volume": t2 - t1, "first_solve": t3 - t2, "warm_solve": t4 - t3,
                  "kernels": kernels}))
"""


class Timing(NamedTuple):
    """Seconds of one process: wall clock, and CPU (user + system, all its threads). On a
    loaded machine the CPU time is the steadier of the two."""

    wall: float
    cpu: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: Sequence[str], env: dict, cwd: Path) -> tuple[Timing, str]:
    """The times of a new process running ``cmd`` (which must succeed), and its stdout."""
    t, c = time.perf_counter(), _children_cpu()
    proc = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    timing = Timing(time.perf_counter() - t, _children_cpu() - c)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return timing, proc.stdout


def median(timings: Sequence[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))


def snapshot(rev: str, dest: Path) -> dict:
    """The packages of commit ``rev`` in ``dest``, with a copy of the working tree's Numba
    cache files; the environment that imports them (``dest`` first on the path)."""
    dest.mkdir()
    archive = subprocess.run(["git", "archive", rev, "solver", "api"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for cached in ROOT.glob("solver/**/__pycache__/*.nb[ic]"):
        target = dest / cached.relative_to(ROOT)
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(cached, target)
    return {**ENV, "PYTHONPATH": str(dest)}


def short(rev: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def phc_run(name: str, work: Path) -> tuple[Timing, int]:
    """The times of ``phc -b`` on a fresh copy of ``name``'s file, and the size of its
    solution list."""
    inp, out = work / f"phc-{name}.phc", work / f"phc-{name}.out"
    shutil.copy(work / f"{name}.phc", inp)
    out.unlink(missing_ok=True)
    timing, _ = run(["phc", "-b", "-0", str(inp), str(out)], ENV, work)
    m = re.search(r"THE SOLUTIONS\s*:?\s*\n\s*(\d+)\s+\d+", inp.read_text())
    return timing, int(m.group(1)) if m else -1


def ours_run(files: Sequence[Path], env: dict, work: Path) -> tuple[Timing, list[int]]:
    """The times of one ``lps solve`` process on ``files``, and the solutions per file."""
    out = work / "out.json"
    timing, _ = run([LPS, "solve", "--quiet", "--json", str(out), *map(str, files)], env, work)
    data = json.loads(out.read_text())
    return timing, [len(d["solutions"]) for d in (data if isinstance(data, list) else [data])]


def cold_times(work: Path, env: dict, env_before: dict | None, repeats: int) -> dict:
    """Interleaved cold runs of ours (after, and before when given) and ``phc -b``."""
    runs: dict = {name: {"ours": [], "before": [], "phc": [], "solutions": {}} for name in SYSTEMS}
    for _ in range(repeats):
        for name in SYSTEMS:
            r = runs[name]
            timing, (count,) = ours_run([work / f"{name}.phc"], env, work)
            r["ours"].append(timing)
            r["solutions"]["ours"] = count
            if env_before is not None:
                r["before"].append(ours_run([work / f"{name}.phc"], env_before, work)[0])
            timing, r["solutions"]["phc"] = phc_run(name, work)
            r["phc"].append(timing)
    return runs


#: the libraries a solve imports, alone in a fresh process, one after the other (Numba
#: imports SciPy's BLAS wrappers when its registries start, in the first solve)
LIBRARIES = ("numpy", "numba", "scipy.linalg.cython_blas", "phcpy")
#: ``lps solve FILE`` in a fresh process, then the interpreter's shutdown: as ``main(argv)``
#: leaves it, as the ``lps`` program leaves it (``main()``, objects frozen), or none (``os._exit``)
EXITS = {"plain": "import sys; from solver.cli.main import main; main(['solve', '--quiet', sys.argv[1]])",
         "program": "import sys; from solver.cli.main import main; sys.argv[1:] = ['solve', '--quiet', sys.argv[1]]; main()"}
EXITS["skipped"] = EXITS["plain"] + "; import os; os._exit(0)"


def phases(work: Path, env: dict, repeats: int) -> dict:
    """Median CPU seconds of each phase of a cold run (:data:`PHASES`), per system, of
    Python's own start, what each of :data:`LIBRARIES` adds to a fresh process that
    imports the ones before it, and the interpreter's shutdown after ``lps solve``
    (:data:`EXITS`); every process of a repeat runs before the next repeat starts (load
    spikes hit all)."""
    codes = ["pass"] + ["import " + ", ".join(LIBRARIES[:k]) for k in range(1, len(LIBRARIES) + 1)]
    times: dict[str, list[float]] = {code: [] for code in codes}
    samples: dict[str, list[dict]] = {name: [] for name in SYSTEMS}
    exits: dict[str, list[float]] = {kind: [] for kind in EXITS}
    for _ in range(repeats):
        for code in codes:
            times[code].append(run([sys.executable, "-c", code], env, work)[0].cpu)
        for kind, code in EXITS.items():
            exits[kind].append(run([sys.executable, "-c", code, str(work / f"{SYSTEMS[0]}.phc")], env, work)[0].cpu)
        for name in SYSTEMS:
            samples[name].append(json.loads(run([sys.executable, "-c", PHASES, str(work / f"{name}.phc")], env, work)[1]))
    out: dict = {"python": statistics.median(times["pass"]),
                 **{f"shutdown_{kind}": statistics.median(a - b for a, b in zip(exits[kind], exits["skipped"]))
                    for kind in ("plain", "program")}}
    for before, code, library in zip(codes, codes[1:], LIBRARIES):  # paired: the same repeat's processes
        out[library] = statistics.median(b - a for a, b in zip(times[before], times[code]))
    for name, runs in samples.items():
        out[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "kernels"}
        out[name]["kernels"] = runs[0]["kernels"]
    return out


def import_profile(file: Path, env: dict, work: Path, repeats: int = 3) -> tuple[Counter, set[str]]:
    """Median ``-X importtime`` self milliseconds per top-level package of ``lps solve
    FILE``, and every module imported."""
    samples, modules = [], set()
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, "-X", "importtime", LPS, "solve", "--quiet", str(file)], env=env,
                              cwd=work, capture_output=True, text=True, check=True)
        per = Counter()
        for m in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", proc.stderr):
            per[m.group(2).split(".")[0]] += int(m.group(1)) / 1000
            modules.add(m.group(2))
        samples.append(per)
    keys = set().union(*samples)
    return Counter({k: statistics.median(s.get(k, 0.0) for s in samples) for k in keys}), modules


def multi_file(work: Path, env: dict, repeats: int) -> dict:
    """``lps solve`` of every :data:`MULTI` file in one process against one process per
    file, and against one ``phc -b`` process per file; the solution counts of each."""
    files = [work / f"{name}.phc" for name in MULTI]
    one, many, phc, counts = [], [], [], {}

    def total(results: list) -> Timing:
        return Timing(sum(t.wall for t, _ in results), sum(t.cpu for t, _ in results))

    for _ in range(repeats):
        timing, counts["one"] = ours_run(files, env, work)
        one.append(timing)
        results = [ours_run([f], env, work) for f in files]
        many.append(total(results))
        counts["many"] = [c for _, (c,) in results]
        results = [phc_run(name, work) for name in MULTI]
        phc.append(total(results))
        counts["phc"] = [c for _, c in results]
    return {"one": median(one), "many": median(many), "phc": median(phc), "counts": counts}


def write_system_files(work: Path) -> None:
    for name in set(SYSTEMS) | set(MULTI):
        (work / f"{name}.phc").write_text(format_system(by_name(name)))


def _ms(x: float) -> str:
    return f"{1000 * x:.0f}"


def report(cold: dict, ph: dict, imports: dict, multi: dict, args: argparse.Namespace, load: tuple) -> str:
    """The markdown of ``bench/COLD_RESULTS.md``."""
    busy = " (other work was running: absolute times are inflated, the ratios are what the run measures)" \
        if max(load) >= 1 else ""
    lines = [
        "# Cold start of `lps solve` (issue 12)", "",
        f"`{' '.join(['.venv/bin/python', 'bench/cold_start.py', *sys.argv[1:]])}`, one run, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average {load[0]:.1f} before and "
        f"{load[1]:.1f} after{busy}. Ours is commit {short(args.after)}"
        + (f", before is commit {short(args.before)} (the command line before the cold-start change)" if args.before else "")
        + f". Medians of {args.repeats} interleaved repeats; ours with `NUMBA_NUM_THREADS=1`, compiled kernels "
        f"in Numba's cache (a warm-up run first). Wall: the process's wall clock; CPU: its user + system time.", "",
    ]
    lines += cold_table(cold, args.before)
    lines += ["", verdict(cold, ph)]
    lines += ["", "## Where a cold run's time goes (CPU ms of one fresh process, median)", "",
              "| system | Python start | imports (command line + engine) | phcpy mixed volume | first solve "
              "(loads kernels) | warm solve | first - warm |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in SYSTEMS:
        p = ph[name]
        lines.append(f"| {name} | {_ms(ph['python'])} | {_ms(p['imports'])} | {_ms(p['mixed_volume'])} | "
                     f"{_ms(p['first_solve'])} | {_ms(p['warm_solve'])} | {_ms(p['first_solve'] - p['warm_solve'])} |")
    steps = ", ".join(f"{library} +{_ms(ph[library])}" for library in LIBRARIES)
    lines += ["", f"The libraries alone, each added to a fresh process that imports the ones before (CPU ms, "
              f"median of the differences within a repeat): {steps}. The first solve's extra time (first - warm) "
              f"is Numba's start-up of its compiler's registries and the loading of the cached kernels the solve "
              f"runs, no others: " + "; ".join(f"{name}: {', '.join(ph[name]['kernels'])}" for name in SYSTEMS) + ". "
              f"After the solve, the interpreter's shutdown takes {_ms(ph['shutdown_plain'])} ms more than leaving "
              f"by `os._exit` when its final collections run, {_ms(ph['shutdown_program'])} ms as the `lps` program "
              f"leaves (its objects frozen first; {SYSTEMS[0]}, medians of paired runs)."]
    lines += import_table(imports, args.before)
    one, many, phc, counts = multi["one"], multi["many"], multi["phc"], multi["counts"]
    lines += ["", f"## Several files in one process ({len(MULTI)} files: {', '.join(MULTI)})", "",
              "| | `lps solve` of all files, one process | `lps solve`, one process per file | ratio | "
              "`phc -b`, one process per file | one process / phc -b |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {kind} ms | {_ms(getattr(one, kind))} | {_ms(getattr(many, kind))} | "
              f"{getattr(one, kind) / getattr(many, kind):.2f} | {_ms(getattr(phc, kind))} | "
              f"{getattr(one, kind) / getattr(phc, kind):.2f} |" for kind in ("wall", "cpu")]
    lines += ["", f"Solutions per file: {counts['one']} in one process, {counts['many']} by separate processes, "
              f"{counts['phc']} in phc -b's lists."]
    return "\n".join(lines) + "\n"


def verdict(cold: dict, ph: dict) -> str:
    """The target (wall ours / phc -b at most 2), met or missed per system, and the floor
    that the libraries and Numba's start-up put under a cold run."""
    ratios = {name: median(r["ours"]).wall / median(r["phc"]).wall for name, r in cold.items()}
    missed = {name: x for name, x in ratios.items() if x > 2}
    phc_cpu = max(median(r["phc"]).cpu for r in cold.values())
    # numpy and Numba; SciPy's BLAS wrappers are imported in the first solve's extra time
    floor = ph["python"] + sum(ph[library] for library in LIBRARIES[:2]) + min(
        ph[name]["first_solve"] - ph[name]["warm_solve"] for name in SYSTEMS)
    head = ("Target (wall ours / phc -b at most 2): "
            + ("met on every system. " if not missed else
               "missed on " + ", ".join(f"{n} ({x:.2f})" for n, x in missed.items()) + ". "))
    bound = (": as long as a solve needs these libraries, a new process stays above the target; several files in "
             "one process (below) spread their cost") if floor > 2 * phc_cpu else ""
    return head + (f"Python's start, importing numpy and Numba, and Numba's start-up (which imports SciPy's "
                   f"BLAS wrappers) with the kernel loads take {_ms(floor)} CPU ms together before any path, "
                   f"{floor / phc_cpu:.1f}x the CPU time of the slower `phc -b` run ({_ms(phc_cpu)} ms){bound}.")


def cold_table(cold: dict, before: str) -> list[str]:
    """Rows of the cold-start table: wall and CPU milliseconds and ratios to ``phc -b``."""
    lines = ["## Cold start: a new `lps solve` process against a new `phc -b` process", "",
             f"| system | solutions (ours / phc) | | ours ms | phc -b ms | ours / phc | before ({before}) ms | "
             "before / phc |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for name, r in cold.items():
        ours, phc = median(r["ours"]), median(r["phc"])
        old = median(r["before"]) if r["before"] else None
        for kind in ("wall", "cpu"):
            o, p = getattr(ours, kind), getattr(phc, kind)
            b = f"{_ms(getattr(old, kind))} | {getattr(old, kind) / p:.2f}" if old else "- | -"
            label = f"{name} | {r['solutions']['ours']} / {r['solutions']['phc']}" if kind == "wall" else " | "
            lines.append(f"| {label} | {kind} | {_ms(o)} | {_ms(p)} | {o / p:.2f} | {b} |")
    return lines


def import_table(imports: dict, before: str) -> list[str]:
    """Rows of the import-time table: the packages costing most in either column."""
    after_ms, after_mods = imports["after"]
    before_ms, before_mods = imports.get("before", (Counter(), set()))
    top = sorted(set(after_ms) | set(before_ms), key=lambda k: -max(after_ms.get(k, 0), before_ms.get(k, 0)))[:14]
    lines = ["", "## Import time of `lps solve FILE` by top-level package (`-X importtime` self ms, katsura-5)", "",
             f"| package | before ({before}) | after |", "|---|---:|---:|"]
    lines += [f"| {k} | {before_ms.get(k, 0):.0f} | {after_ms.get(k, 0):.0f} |" for k in top]
    lines.append(f"| **all** ({len(before_mods)} / {len(after_mods)} modules) | {sum(before_ms.values()):.0f} | "
                 f"{sum(after_ms.values()):.0f} |")

    def imported(mods: set[str], heavy: str) -> str:
        return "yes" if heavy in mods or any(m.startswith(heavy + ".") for m in mods) else "no"

    lines += ["", "Imported by `lps solve` of katsura-5: " + "; ".join(
        f"{h} {imported(before_mods, h) if before_mods else '-'} -> {imported(after_mods, h)}" for h in HEAVY) + "."]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--after", default="HEAD", help="the commit measured")
    ap.add_argument("--before", default=BEFORE, help="the commit of the 'before' columns ('' for none)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "COLD_RESULTS.md"))
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lps-cold-") as tmp:
        work = Path(tmp)
        write_system_files(work)
        env = snapshot(args.after, work / "after")
        env_before = snapshot(args.before, work / "before") if args.before else None
        for e in filter(None, (env, env_before)):  # warm-up: byte code, and any kernel not in the cache
            for name in MULTI:  # one file a run: the command line before could take only one
                ours_run([work / f"{name}.phc"], e, work)
        print("cold runs ...", file=sys.stderr)
        cold = cold_times(work, env, env_before, args.repeats)
        print("phases ...", file=sys.stderr)
        ph = phases(work, env, args.repeats)
        print("import profiles ...", file=sys.stderr)
        imports = {"after": import_profile(work / "katsura-5.phc", env, work)}
        if env_before is not None:
            imports["before"] = import_profile(work / "katsura-5.phc", env_before, work)
        print("several files ...", file=sys.stderr)
        multi = multi_file(work, env, max(3, args.repeats // 2))
    text = report(cold, ph, imports, multi, args, (load0, os.getloadavg()[0]))
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
