"""What the companion papers add to every report: one function for the CLI, the init modes
and the service.

- ``linear_origin`` (all-identity networks): whether the origin is a local minimum for the
  spec's weight decay (Ziyin, Li and Meng, arXiv 2202.04777;
  :mod:`solver.networks.linear_closed_form`).
- ``condensation``: each hidden layer's surrogate multiplicity at 0 and the predicted number of
  condensed orientations, and each candidate's first-layer orientations (Zhou et al. 2022;
  :mod:`solver.networks.condensation`).
- ``curvature``: the Hessian's spectral norm per layer block for every candidate (Skorski,
  Temperoni and Theobald 2020; :mod:`solver.networks.curvature`; needs torch).

:func:`companion_facts` returns the JSON-ready facts; :func:`companion_lines` the lines the
command line prints. Each fact is computed only where it applies.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from solver.networks.spec import NetworkSpec


def _linear_origin(spec: NetworkSpec) -> dict | None:
    from solver.networks.linear_closed_form import closed_form_reason, is_linear, origin_check

    if not is_linear(spec) or spec.data.y is None or len(spec.layers) < 2:
        return None
    check = origin_check(spec)
    reason = closed_form_reason(spec)
    return {**check.to_json(), "warning": check.warning(),
            "closed_form": reason is None, "closed_form_reason": reason}


def companion_facts(spec: NetworkSpec, thetas: Sequence[np.ndarray] = ()) -> dict:
    """The companion papers' facts for ``spec`` and its candidates ``thetas`` (state_dict order)."""
    out: dict = {}
    origin = _linear_origin(spec)
    if origin is not None:
        out["linear_origin"] = origin
    if len(spec.layers) > 1:
        from solver.networks.condensation import condensation_report

        out["condensation"] = condensation_report(spec, list(thetas))
    if thetas:
        from solver.networks.curvature import curvature_report

        out["curvature"] = curvature_report(spec, list(thetas))
    return out


def companion_lines(facts: dict) -> list[str]:
    """The facts as indented lines for ``lps critical`` and ``lps init``."""
    lines = []
    origin = facts.get("linear_origin")
    if origin is not None:
        state = "a strict local minimum" if origin["local_minimum"] else "not a local minimum"
        lines.append(f"  linear network: the origin is {state} (Hessian's smallest eigenvalue "
                     f"{origin['smallest_eigenvalue']:.3g})" + (f"; WARNING: {origin['warning']}" if origin["warning"] else ""))
    cond = facts.get("condensation")
    if cond is not None:
        for l in cond["layers"]:
            lines.append(f"  condensation, layer {l['layer']} ({l['activation']}): surrogate root multiplicity at 0 "
                         f"{l['root_multiplicity']}, multiplicity {l['multiplicity']}: at most "
                         f"{l['predicted_max_orientations']} condensed orientations (Zhou et al.)")
        if cond.get("candidates"):
            lines.append("  first-layer orientations per candidate: " + ", ".join(
                f"{c['first_layer_orientations']}" + (" (outside)" if c["outside_condensed_regime"] else "")
                for c in cond["candidates"]))
    curvature = facts.get("curvature")
    if curvature is not None:
        if "skipped" in curvature:
            lines.append(f"  curvature per layer: skipped ({curvature['skipped']})")
        for k, c in enumerate(curvature.get("candidates", [])):
            per = ", ".join(f"{l['spectral_norm']:.3g}" for l in c["layers"])
            lines.append(f"  curvature, candidate {k}: ||H_ll|| per layer [{per}], whole {c['whole']['spectral_norm']:.3g}")
    return lines
