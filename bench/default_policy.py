#!/usr/bin/env python
"""What the completeness policy costs on ordinary systems (issue 12): ``solve`` with
variants of ``scale``, ``recheck_infinity`` and the tracker options on the twelve
benchmark systems and on network gradient systems, as ratios to a baseline timed in the
same run.

Per system and variant: the median wall time of ``solve`` over ``--repeats``, its ratio
to the first variant's, the tracker steps of every path tracked (first runs and re-runs;
the re-check's own paths excluded), which are deterministic and so immune to the shared
machine's load, and the distinct solutions found (flagged where they differ from the
first variant's). Variants run interleaved, so that the load hits them alike; JIT loading
is excluded (a warm-up solve of each variant runs first).

With ``--baseline-root DIR`` the first variant is ``solve(system, seed)`` run by the code
in ``DIR`` (a copy of the tree before a change, e.g. the previous commit), in a
subprocess that runs this script from there, interleaved with the variants here.

Run::

    NUMBA_NUM_THREADS=1 .venv/bin/python bench/default_policy.py                  # ~10 min
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/default_policy.py --systems katsura-6,net-1-1-1 --repeats 1
    NUMBA_NUM_THREADS=1 .venv/bin/python bench/default_policy.py --baseline-root /tmp/before

Variants are ``name=json options`` (``--variant 'scale={"scale": true}'``; a ``"tracker"``
key holds TrackerOptions fields; ``"fallback": false`` turns off the completeness fallback
of ``start="auto"``); the default set is the policy in force, the options forced off,
scaling forced on and the re-check of paths at infinity. Systems are named as in
``bench/engine.py``, ``net-...`` below, or by a file of ``tests/data/hard``. Writes
``bench/POLICY_RESULTS.md`` (``--out``) and ``bench/results/default_policy.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):  # `python bench/default_policy.py` puts bench/, not the root, on the path
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import solver.engine.solve as _solve_module  # noqa: E402
from bench.engine import FULL  # noqa: E402
from solver.engine.examples import by_name  # noqa: E402
from solver.engine.options import TrackerOptions  # noqa: E402
from solver.engine.solve import solve  # noqa: E402
from solver.engine.start_systems.fallback import Fallback, fallback_decision  # noqa: E402

#: network specs as tests/test_family.py builds them: widths, activation, degree, seed, extra
NETWORKS = {
    "net-1-1-1": ((1, 1, 1), "relu", 2, 1, {}),
    "net-1-1-1-d3": ((1, 1, 1), "relu", 3, 2, {"bias": False}),
    "net-2-1-1": ((2, 1, 1), "tanh", 3, 3, {}),
}
#: the twelve benchmark systems of bench/engine.py, then the network systems
SYSTEMS = FULL + list(NETWORKS)
VARIANTS = {
    "off": {"scale": False, "recheck_infinity": False, "tracker": {"loose_infinity": 0.02}},
    "default": {},
    "scale": {"scale": True},
    "recheck": {"recheck_infinity": True},
}


#: systems of the hard collection (issue 12) by file name, for the policy's own cases
HARD = ROOT / "tests" / "data" / "hard"


def load(name: str):
    """A benchmark system by name, a network spec's gradient system (``net-...``), or a
    system of ``tests/data/hard`` by its file name (``cassou``, ``chemequs``, ...)."""
    if (HARD / f"{name}.phc").is_file():
        from solver.engine.formats.phc import parse_system

        return parse_system((HARD / f"{name}.phc").read_text())
    if name in NETWORKS:
        from network_specs import make_spec

        from solver.networks.gradient_system import gradient_system

        widths, activation, degree, seed, extra = NETWORKS[name]
        return gradient_system(make_spec(widths, activation, degree, seed=seed, **extra))
    return by_name(name)


class _StepCounter:
    """Wraps ``solver.engine.solve.track`` to add up the steps of every path it tracks."""

    def __init__(self) -> None:
        self.steps = 0
        self._track = _solve_module.track

    def __call__(self, *args, **kwargs):
        out = self._track(*args, **kwargs)
        self.steps += int(out[4].sum())
        return out


_COUNTER = _StepCounter()
_solve_module.track = _COUNTER


def _no_fallback(*args, **kwargs) -> Fallback:
    return Fallback(False, None, "")


def run(system, options: dict, seed: int) -> dict:
    """One timed solve; ``options["tracker"]``, if given, holds TrackerOptions fields;
    ``options["fallback"] = False`` turns the completeness fallback of ``start="auto"`` off."""
    options = dict(options)
    if "tracker" in options:
        options["options"] = TrackerOptions(**options.pop("tracker"))
    _solve_module.fallback_decision = fallback_decision if options.pop("fallback", True) else _no_fallback
    _COUNTER.steps = 0
    t0 = time.perf_counter()
    result = solve(system, seed=seed, **options)
    return {"seconds": time.perf_counter() - t0, "found": len(result.solutions), "paths": result.paths, "steps": _COUNTER.steps}


def run_elsewhere(root: Path, name: str, seed: int) -> dict:
    """``solve(system, seed)`` timed by the code in ``root`` (this script, run from there)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(root / "bench" / "default_policy.py"), "--one", name, "--seed", str(seed),
                        "--json", out.name], check=True, cwd=root)
        return json.loads(Path(out.name).read_text())


def measure(name: str, variants: dict, repeats: int, seed: int, baseline: Path | None) -> dict:
    system = load(name)
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(repeats):
        if baseline is not None:
            runs["baseline"].append(run_elsewhere(baseline, name, seed))
        for v, options in variants.items():
            if v != "baseline":
                runs[v].append(run(system, options, seed))
    med = {v: statistics.median(r["seconds"] for r in rs) for v, rs in runs.items()}
    first = next(iter(runs))
    return {"name": name, "paths": runs[first][-1]["paths"], "seconds": med,
            "found": {v: rs[-1]["found"] for v, rs in runs.items()}, "steps": {v: rs[-1]["steps"] for v, rs in runs.items()},
            "ratio": {v: med[v] / med[first] for v in runs},
            "step_ratio": {v: runs[v][-1]["steps"] / max(1, runs[first][-1]["steps"]) for v in runs}}


def markdown(rows: list[dict], variants: dict, command: str) -> str:
    names = list(variants)
    described = "; ".join(f"*{v}* `{json.dumps(o)}`" if o is not None else f"*{v}* the code before the change, `{{}}`"
                          for v, o in variants.items())
    head = [
        "# What the completeness policy costs (issue 12)",
        "",
        f"`{command}` on {_dt.date.today()}, {platform.node()}, Python {platform.python_version()}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}; variants interleaved, median of the repeats, "
        "JIT loading excluded, on a shared 2-core machine: read the ratios, and the step ratios (deterministic) before the time ratios.",
        "",
        f"Variants: {described}. Time: the variant's median wall time / *{names[0]}*'s; steps: its tracker steps / "
        f"*{names[0]}*'s; found: distinct solutions (! where it differs from *{names[0]}*).",
        "",
        "| system | paths | " + " | ".join(f"{v} s" for v in names) + " | "
        + " | ".join(f"time {v}/{names[0]}" for v in names[1:]) + " | " + " | ".join(f"steps {v}/{names[0]}" for v in names[1:])
        + " | found " + " / ".join(names) + " |",
        "|---|---:|" + "---:|" * (3 * len(names) - 2) + "---|",
    ]
    lines = []
    for r in rows:
        base = r["found"][names[0]]
        found = " / ".join(f"{r['found'][v]}{'' if r['found'][v] == base else '!'}" for v in names)
        lines.append(f"| {r['name']} | {r['paths']} | " + " | ".join(f"{r['seconds'][v]:.3f}" for v in names) + " | "
                     + " | ".join(f"{r['ratio'][v]:.2f}" for v in names[1:]) + " | "
                     + " | ".join(f"{r['step_ratio'][v]:.2f}" for v in names[1:]) + f" | {found} |")
    geo = [f"*{v}/{names[0]}* time {statistics.geometric_mean([r['ratio'][v] for r in rows]):.2f}, "
           f"steps {statistics.geometric_mean([r['step_ratio'][v] for r in rows]):.2f}" for v in names[1:]]
    return "\n".join(head + lines + ["", "Geometric means: " + "; ".join(geo) + "."]) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", default=[], help="name=json options (repeatable)")
    parser.add_argument("--baseline-root", default=None, help="a tree whose solve(system, seed) is the first variant")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # a warm-up and one timed default solve
    parser.add_argument("--out", default=str(ROOT / "bench" / "POLICY_RESULTS.md"))
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "default_policy.json"))
    args = parser.parse_args(argv)
    if args.one:
        run(by_name("katsura-3"), {}, 0)
        Path(args.json).write_text(json.dumps(run(load(args.one), {}, args.seed)))
        return
    variants = {k: json.loads(o) for k, o in (v.split("=", 1) for v in args.variant)} if args.variant else dict(VARIANTS)
    baseline = Path(args.baseline_root).resolve() if args.baseline_root else None
    if baseline is not None:
        variants = {"baseline": None, **variants}
    for options in variants.values():  # warm-up: load every kernel a variant uses
        if options is not None:
            run(by_name("katsura-3"), options, 0)
    rows = []
    for name in args.systems.split(","):
        rows.append(measure(name, variants, args.repeats, args.seed, baseline))
        r = rows[-1]
        print(name, {v: f"{s:.3f}" for v, s in r["seconds"].items()}, r["steps"], r["found"], flush=True)
    command = "NUMBA_NUM_THREADS=1 .venv/bin/python bench/default_policy.py" + "".join(
        f" '{a}'" if " " in a else f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    Path(args.out).write_text(markdown(rows, variants, command))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
