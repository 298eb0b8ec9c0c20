"""The gradient system of surrogate networks and its linear product structure.

Oracles: PyTorch autograd for the loss, gradient and Hessian; PHCpack (phcpy) for the
root counts; the engine's independent generalised Bezout counter; DESIGN.md's counts.
"""

import time

import numpy as np
import pytest

from network_specs import make_spec, torch_gradient_hessian, torch_loss
from solver.networks.gradient_system import network_loss
from solver.engine.start_systems.set_structure import SetStructure, enumerate_choices
from solver.networks.structure import (
    StructureError,
    bias_variants,
    lps_count,
    lps_count_bounded,
    network_set_structure,
    root_counts,
    verify_coverage,
)

SPECS = [
    dict(widths=(1, 1, 1)),
    dict(widths=(1, 2, 1)),
    dict(widths=(2, 1, 1), activation="tanh", degree=3),
    dict(widths=(2, 2, 1), activation="gelu", degree=3),
    dict(widths=(1, 2, 2, 1), activation="silu", degree=2),
    dict(widths=(2, 3, 2), activation="leaky_relu", degree=2, bias=False),
    dict(widths=(3, 2, 2), activation="sigmoid", degree=2, interval=(-1.5, 2.5), n_samples=9),
]


@pytest.mark.parametrize("kw", SPECS, ids=lambda kw: "-".join(map(str, kw["widths"])) + "-" + kw.get("activation", "relu"))
def test_loss_gradient_hessian_match_autograd(kw):
    torch = pytest.importorskip("torch")
    spec = make_spec(**kw)
    loss = network_loss(spec)
    rng = np.random.default_rng(7)
    for _ in range(3):
        theta = rng.normal(size=spec.n_parameters)
        ref = torch_loss(spec, torch.tensor(theta), loss.surrogates).item()
        g, H = torch_gradient_hessian(spec, theta, loss.surrogates)
        assert loss.loss(theta) == pytest.approx(ref, rel=1e-12, abs=1e-14)
        assert loss.loss_from_polynomial(theta) == pytest.approx(ref, rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(loss.gradient(theta), g, rtol=1e-9, atol=1e-10 * np.abs(g).max())
        np.testing.assert_allclose(loss.hessian(theta), H, rtol=1e-9, atol=1e-10 * np.abs(H).max())
        # the engine's system evaluates to the same gradient, its Jacobian is the Hessian
        np.testing.assert_allclose(loss.system(theta).real, g, rtol=1e-9, atol=1e-10 * np.abs(g).max())
        np.testing.assert_allclose(loss.system.jacobian(theta).real, H, rtol=1e-9, atol=1e-10 * np.abs(H).max())


def test_variables_follow_state_dict_order():
    torch = pytest.importorskip("torch")
    spec = make_spec((2, 3, 1))
    loss = network_loss(spec)
    assert loss.variables[:8] == ("W0_0_0", "W0_0_1", "W0_1_0", "W0_1_1", "W0_2_0", "W0_2_1", "b0_0", "b0_1")
    assert loss.variables[-4:] == ("W1_0_0", "W1_0_1", "W1_0_2", "b1_0")
    # a torch model with these parameters, flattened by state_dict, computes our output
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)).double()
    theta = torch.cat([v.reshape(-1) for v in model.state_dict().values()]).detach().numpy()
    x = spec.data.x_array()
    s = loss.surrogates[0]
    with torch.no_grad():
        h = model[0](torch.tensor(x))
        out = model[1](s(h)).numpy()
    np.testing.assert_allclose(loss.forward(theta), out, rtol=1e-12)


def test_size_does_not_depend_on_the_sample_size():
    small = network_loss(make_spec((1, 2, 1), n_samples=6))
    large = network_loss(make_spec((1, 2, 1), n_samples=600))
    assert small.exponents.shape == large.exponents.shape
    assert [p.n_terms for p in small.system.polynomials] == [p.n_terms for p in large.system.polynomials]


def test_build_is_fast():
    network_loss(make_spec((1, 1, 1)))  # warm imports
    for widths in [(1, 2, 1), (2, 2, 1)]:
        spec = make_spec(widths, n_samples=50)
        t = time.perf_counter()
        loss = network_loss(spec)
        _ = loss.system
        assert time.perf_counter() - t < 1.0


def test_exact_cancellation_is_dropped():
    # symmetric data: odd moments vanish, so the system must not carry 1e-18 noise terms
    spec = make_spec((1, 1, 1))
    spec.data.x = [[-1.0], [-0.3], [0.0], [0.3], [1.0]]
    spec.data.y = [[1.0], [0.09], [0.0], [0.09], [1.0]]
    loss = network_loss(spec)
    c = np.concatenate([p.coefficients for p in loss.system.polynomials])
    assert np.abs(c).min() > 1e-10


# -- linear product structure -------------------------------------------------------------------
@pytest.mark.parametrize("widths", [(1, 1, 1), (2, 1, 1), (1, 2, 1), (2, 2, 1), (1, 2, 2, 1), (2, 3, 2)])
def test_structure_covers_and_counts_agree_with_engine(widths):
    spec = make_spec(widths, activation="tanh", degree=3) if widths == (2, 3, 2) else make_spec(widths)
    loss = network_loss(spec)
    st = network_set_structure(spec)
    verify_coverage(st, loss.system)  # raises if a monomial is not covered
    # the factor count equals each equation's degree: no wasted factors
    assert list(st.n_factors) == loss.system.degrees.tolist()
    if spec.n_parameters <= 9:
        # the atom count against an independent count: the enumerated start choices
        assert lps_count(st) == sum(len(c) for c in enumerate_choices(st))


def test_design_example_counts():
    # DESIGN.md: one neuron (a, w, b), three data points, lambda = 0: total degree 125,
    # linear-product count 57, mixed volume 17 (PHCpack's counts)
    spec = make_spec((1, 1, 1), n_samples=3, weight_decay=0.0, mode="auto")
    spec.layers[1].bias = False
    loss = network_loss(spec)
    st = network_set_structure(spec)
    verify_coverage(st, loss.system)
    assert [sorted(s) for s in st.sets[2]] == [[2], [0, 1], [0, 1], [0, 1], [0, 1]]
    counts = root_counts(spec, loss.system, st, mixed_volume=True)
    assert counts["total_degree"] == 125
    assert counts["linear_product"] == 57
    if counts["mixed_volume"] is not None:
        assert counts["mixed_volume"] == 17


def test_design_example_sets_for_two_neurons():
    # DESIGN.md: the equation of a_1 is covered by {a_1, a_2} x {w_1, b_1}^2 x {w_1, b_1, w_2, b_2}^2
    spec = make_spec((1, 2, 1))
    spec.layers[1].bias = False
    names = spec.parameter_names()
    st = network_set_structure(spec)
    eq = sorted(sorted(names[v] for v in s) for s in st.sets[names.index("W1_0_0")])
    assert eq == sorted(
        [["W1_0_0", "W1_0_1"], ["W0_0_0", "b0_0"], ["W0_0_0", "b0_0"], ["W0_0_0", "W0_1_0", "b0_0", "b0_1"], ["W0_0_0", "W0_1_0", "b0_0", "b0_1"]]
    )


def test_lps_count_well_below_total_degree_and_phcpack():
    phcpack = pytest.importorskip("solver.engine.backends.phcpack")
    for widths, min_ratio in [((2, 1, 1), 3.5), ((1, 2, 1), 4.0), ((2, 2, 1), 5.0), ((1, 3, 1), 5.0)]:
        spec = make_spec(widths)
        loss = network_loss(spec)
        st = network_set_structure(spec)
        count = lps_count(st)
        assert loss.system.total_degree / count >= min_ratio
        if phcpack.phcpy_available() and widths in ((2, 1, 1), (1, 2, 1)):
            phc_count, _ = phcpack.phcpy_linear_product_count(loss.system)
            assert count <= phc_count  # the network's sets beat PHCpack's supporting sets


def test_bounded_count_decides_budgets_fast():
    st = network_set_structure(make_spec((1, 3, 1)))  # 1,129,797 paths
    t = time.perf_counter()
    value, status = lps_count_bounded(st, cap=100_000)
    assert status == "above" and value > 100_000
    assert lps_count_bounded(st, cap=2_000_000) == (1_129_797, "exact")
    assert time.perf_counter() - t < 10


def test_bias_alignment_variants_are_all_valid_and_the_smallest_is_chosen():
    # 2-1-1: the output bias among the hidden neuron's sets gives 490 (PHCpack's count),
    # next to the output weights 567; 1-2-1 the other way round
    for widths, counts in [((2, 1, 1), {567, 490}), ((1, 2, 1), {10761, 11954})]:
        spec = make_spec(widths)
        system = network_loss(spec).system
        found = set()
        for flags in bias_variants(spec):
            st = network_set_structure(spec, bias_down=flags)
            verify_coverage(st, system)
            found.add(lps_count(st))
        assert found == counts
        assert lps_count(network_set_structure(spec)) == min(counts)


def test_coverage_check_raises_on_a_broken_structure():
    spec = make_spec((1, 2, 1))
    loss = network_loss(spec)
    st = network_set_structure(spec)
    broken = SetStructure((st.sets[0][:-1],) + st.sets[1:], st.n_variables)
    with pytest.raises(StructureError, match="does not cover"):
        verify_coverage(broken, loss.system)
