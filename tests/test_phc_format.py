"""PHCpack text format: parsing (checked against sympy's expansion of the same text),
writing, exact round trips, solution lists, and an error naming line and column for every
kind of malformed input."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import sympy as sp

from solver.engine.examples import by_name
from solver.engine.formats.phc import (
    PHCParseError,
    PHCSolution,
    appearance_order,
    format_number,
    format_system,
    parse_solutions,
    parse_system,
)
from solver.engine.system import InvalidSystem, Polynomial, System


def terms(system: System) -> list[dict]:
    """Per polynomial: {exponent tuple over system.variables: coefficient}."""
    return [
        {tuple(int(k) for k in e): complex(c) for c, e in zip(p.coefficients, p.exponents)}
        for p in system.polynomials
    ]


def assert_identical(a: System, b: System) -> None:
    assert a.variables == b.variables
    assert terms(a) == terms(b)  # exact: same monomials, bit-identical coefficients


def sympy_system(text: str) -> System:
    """The oracle: sympy parses and expands the same polynomial text."""
    body = text.split("\n", 1)[1]
    polys = [s for s in body.split(";") if s.strip()]
    exprs = [sp.expand(sp.parse_expr(s.replace("^", "**"), local_dict={"i": sp.I, "I": sp.I})) for s in polys]
    return exprs


# ---------------------------------------------------------------------------------------
# parsing


def test_parse_basic_numbers_imaginary_unit_and_order_of_first_appearance():
    s = parse_system(
        "3 4\n"
        " y*x + 1.5E-01*z - 2.;\n"
        " .5*x^2 + 3e+2*i - I*y;\n"
        " x_1b + 2*i*z - 7E0;\n"
        "\n"
    )
    assert s.variables == ("y", "x", "z", "x_1b")  # 'i' and 'I' are never variables
    t = terms(s)
    assert t[0] == {(1, 1, 0, 0): 1.0, (0, 0, 1, 0): 0.15, (0, 0, 0, 0): -2.0}
    assert t[1] == {(0, 2, 0, 0): 0.5, (0, 0, 0, 0): 300j, (1, 0, 0, 0): -1j}
    assert t[2] == {(0, 0, 0, 1): 1.0, (0, 0, 1, 0): 2j, (0, 0, 0, 0): -7.0}


def test_parse_power_operators_division_and_unary_signs():
    s = parse_system("2\n x**2*y - 2/4*x^3 + -(-y);\n -x^2 + 3*-y/2;\n")
    assert terms(s) == [
        {(2, 1): 1.0, (3, 0): -0.5, (0, 1): 1.0},
        {(2, 0): -1.0, (0, 1): -1.5},
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2\n 3*(x + y)*x - 2/3 + (1.5 - 2*i)*y;\n (x - i*y)^3*(x + 2.5E-01) - (x*y - 1)^2;\n",
        "3\n (a + b + c)^4 - (a - b)*(b - c)*(c - a);\n ((a*b - 1)^2 + I*c)*(a + 1.5) - 2;\n"
        " -(a - (b - (c - (1 - a))))^2 + .5*(2*a*(b + i))^2;\n",
        "2 3\n (u + v*w)^3 - 2*i*(u - 1)^2*w;\n (1 + i)^5*u*v - w^2*(v - 3e-1)^2;\n",
    ],
)
def test_parentheses_expand_like_sympy(text):
    ours = parse_system(text)
    oracle = System.from_sympy(sympy_system(text), list(ours.variables))
    ta, tb = terms(ours), terms(oracle)
    for pa, pb in zip(ta, tb):
        assert pa.keys() == pb.keys()
        for k in pa:
            assert abs(pa[k] - pb[k]) <= 1e-13 * max(1.0, abs(pb[k]))


def test_random_expressions_expand_like_sympy():
    rng = np.random.default_rng(7)
    names = ["p", "q1", "r_s"]

    def expr(depth: int) -> str:
        k = rng.integers(0, 6 if depth else 3)
        if k == 0:
            return f"{rng.normal():.6f}" if rng.uniform() < 0.7 else f"({rng.normal():.4f} + {rng.normal():.4f}*i)"
        if k in (1, 2):
            return str(rng.choice(names))
        if k == 3:
            return f"({expr(depth - 1)} + {expr(depth - 1)})"
        if k == 4:
            return f"{expr(depth - 1)}*{expr(depth - 1)}"
        return f"({expr(depth - 1)} - {expr(depth - 1)})^{rng.integers(0, 4)}"

    for _ in range(25):
        polys = [expr(4) + " + p*q1*r_s" for _ in range(3)]
        text = "3\n" + ";\n".join(polys) + ";\n"
        ours = parse_system(text)
        oracle = System.from_sympy(sympy_system(text), list(ours.variables))
        for pa, pb in zip(terms(ours), terms(oracle)):
            keys = set(pa) | set(pb)
            for k in keys:
                a, b = pa.get(k, 0), pb.get(k, 0)
                assert abs(a - b) <= 1e-10 * max(1.0, abs(b)), (text, k, a, b)


def test_trailing_text_after_the_last_polynomial_is_ignored():
    text = (
        "2\n x^2 + y - 1;\n x - y;\n\nTITLE : with a title; and a semicolon\n\n"
        "THE SOLUTIONS :\n1 2\n====\nsolution 1 :\nt :  1.0E+00  0.0E+00\nm : 1\n"
        "the solution for t :\n x :  6.18E-01  0.0E+00\n y :  6.18E-01  0.0E+00\n"
        "== err :  1.0E-16 = rco :  3.0E-01 = res :  1.0E-16 ==\n"
    )
    s = parse_system(text)
    assert s.variables == ("x", "y") and s.n_equations == 2
    # phc's output files hold the system first too: its Demo files parse
    assert parse_system(" 3 \nx1*x2^2 + x1*x3^2 - 1.1*x1 + 1;\nx2*x1^2 + x2*x3^2 - 1.1*x2 + 1;\n"
                        "x3*x1^2 + x3*x2^2 - 1.1*x3 + 1;\n\nTITLE : noon\n").total_degree == 27


# ---------------------------------------------------------------------------------------
# errors: every one names line and column in one line

ERRORS = [
    ("", 1, 1, "empty input"),
    ("  \n\n ", 3, 2, "empty input"),
    ("x + y;\n", 1, 1, "number of polynomials"),
    ("2 x\n x;\n", 1, 3, "number of polynomials"),
    ("0\n", 1, 1, "must be positive"),
    ("2\n x + y;\n x - y\n", 4, 1, "missing ';'"),
    ("2\n x + y\n x - y;\n", 3, 2, "missing ';'"),
    ("2\n x + y;\n (x - y;\n", 3, 8, "unbalanced parenthesis"),
    ("2\n x + y);\n x - y;\n", 2, 7, "unbalanced parenthesis"),
    ("1\n ((x + 1)*(x - 1);\n", 2, 18, "unbalanced parenthesis"),
    ("2\n x + $y;\n x - y;\n", 2, 6, "unexpected character '$'"),
    ("1\n x @ 2;\n", 2, 4, "unexpected character '@'"),
    ("3\n x + y + z;\n x - y;\n", 1, 1, "says 3 polynomials, the text has 2"),
    ("2\n x + y;\n x - y;\n x*y;\n", 1, 1, "says 2 polynomials, the text has more"),
    ("2\n x + y + z;\n x - y;\n", 1, 1, "says 2 variables, the polynomials have 3"),
    ("2 3\n x + y;\n x - y;\n", 1, 3, "says 3 variables, the polynomials have 2"),
    ("1\n x^-2;\n", 2, 4, "negative exponent"),
    ("1\n x^2.5;\n", 2, 4, "integer exponent"),
    ("1\n x^2^3;\n", 2, 5, "repeated exponent"),
    ("1\n x/(x + 1);\n", 2, 3, "division by a non-constant"),
    ("1\n x/(2 - 2);\n", 2, 3, "division by zero"),
    ("1\n 2x;\n", 2, 3, "unexpected name 'x'"),
    ("1\n x + * 2;\n", 2, 6, "unexpected '*'"),
    ("1\n x +", 2, 5, "end of input"),
]


@pytest.mark.parametrize("text,line,column,what", ERRORS)
def test_errors_name_line_and_column(text, line, column, what):
    with pytest.raises(PHCParseError) as info:
        parse_system(text)
    err = info.value
    assert isinstance(err, InvalidSystem)
    assert (err.line, err.column) == (line, column)
    msg = str(err)
    assert "\n" not in msg
    assert re.fullmatch(rf"line {line}, column {column}: .+", msg)
    assert what in msg


# ---------------------------------------------------------------------------------------
# writing and round trips


@pytest.mark.parametrize("name", ["katsura-4", "cyclic-5", "noon-3", "eco-6"])
def test_examples_round_trip_exactly(name):
    s = by_name(name)
    assert_identical(parse_system(format_system(s)), s)


def test_random_complex_systems_round_trip_bit_for_bit():
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(1, 6))
        m = n + int(rng.integers(0, 2))  # sometimes not square: "n m" count line
        names = [f"v{k}" for k in rng.permutation(40)[:m]]
        if trial % 4 == 0:
            names[0] = "e"  # fine for our parser (the PHCpack backends rename it)
        polys = []
        for _ in range(n):
            k = int(rng.integers(1, 8))
            exps = rng.integers(0, 4, size=(k, m))
            coeffs = rng.normal(size=k) * 10.0 ** rng.integers(-300, 300, size=k)
            coeffs = coeffs + 1j * np.where(rng.uniform(size=k) < 0.5, rng.normal(size=k) / 3, 0.0)
            polys.append(Polynomial(coeffs, exps))
        s = System(tuple(polys), tuple(names))
        assert_identical(parse_system(format_system(s)), s)


def test_round_trip_keeps_variable_order_when_no_term_can_introduce_it():
    # x occurs only in the second equation: a zero term declares it
    s = System.from_sympy(["y - 1", "x**2 + z - 2", "x*z - 1/3 + I/10"], ["x", "y", "z"])
    text = format_system(s)
    assert "0*x" in text
    assert_identical(parse_system(text), s)
    # a variable in no equation at all is declared too
    u = System.from_sympy(["a*b - 1", "a + b"], ["a", "b", "c"])
    assert_identical(parse_system(format_system(u)), u)


def test_declare_false_writes_no_zero_terms_and_readers_follow_appearance_order():
    s = by_name("eco-6")  # every term holds x6: x1..x6 cannot appear in order
    order = appearance_order(s)
    assert sorted(order) == list(range(6)) and order != list(range(6))
    names = [""] * 6
    for k, j in enumerate(order):
        names[j] = f"x{k + 1}"
    text = format_system(s, names, declare=False)
    assert " 0*" not in text
    back = parse_system(text)
    assert back.variables == tuple(f"x{k + 1}" for k in range(6))
    perm = [back.variables.index(v) for v in names]
    assert_identical(System(tuple(Polynomial(p.coefficients, p.exponents[:, perm]) for p in back.polynomials), tuple(names)), s.renamed(names))


def test_format_shape_and_coefficients_in_full_precision():
    s = System(
        (Polynomial([1.2345678901234567 + 0.2j, -1.0, 1 / 3], [[2, 1], [0, 1], [0, 0]]),
         Polynomial([2j, 1.0], [[1, 0], [0, 0]])),
        ("x1", "x2"),
    )
    text = format_system(s)
    lines = text.splitlines()
    assert lines[0] == "2"
    assert "+ (1.2345678901234567E+00 + 2.0E-01*i)*x1^2*x2" in text
    assert "- x2" in text and "+ 3.333333333333333E-01;" in text
    assert "+ 2.0E+00*i*x1" in text
    assert format_system(System.from_sympy(["x + y + z", "x - y"], ["x", "y", "z"])).startswith("2 3\n")


def test_format_number_is_exact_and_short():
    assert format_number(0.2) == "2.0E-01"
    assert format_number(-1.5e-300) == "-1.5E-300"
    assert format_number(1e22) == "1.0E+22"
    assert format_number(0.0) == "0.0E+00"
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-307, 307, size=500), [5e-324, 1.7976931348623157e308]])
    for x in xs:
        assert float(format_number(x)) == x
    with pytest.raises(InvalidSystem):
        format_number(float("nan"))


def test_format_refuses_names_phc_cannot_read():
    s = System.from_sympy(["a - 1"], ["a"])
    for bad in (["i"], ["I"], ["1x"], ["x-y"], [""]):
        with pytest.raises(InvalidSystem):
            format_system(s, bad)
    with pytest.raises(InvalidSystem):
        format_system(s, ["a", "b"])


# ---------------------------------------------------------------------------------------
# solution lists

PHC_LIST = """2
 x*y - 1;
 t^2 - m;

THE SOLUTIONS :
2 3
===========================================================================
solution 1 :
t :  1.00000000000000E+00   0.00000000000000E+00
m : 1
the solution for t :
 x :  1.00000000000000E+00   2.00000000000000E-01
 t : -3.00000000000000E+00   0.00000000000000E+00
 m :  5.00000000000000E-01  -1.00000000000000E+00
== err :  1.234E-16 = rco :  3.450E-01 = res :  5.600E-17 ==
solution 2 :
t :  0.00000000000000E+00   0.00000000000000E+00
m : 2
the solution for t :
 x :  0.00000000000000E+00   0.00000000000000E+00
 t :  1.5E+00   -2.5E-01
 m : -7.0E-01   0.0
== err :  1.0E-20 = rco :  1.0E-31 = res :  2.0E-30 = real regular ==
"""


def test_parse_phc_solution_list_with_fields_and_variables_named_t_and_m():
    sols = parse_solutions(PHC_LIST)
    assert len(sols) == 2 and all(isinstance(s, np.ndarray) for s in sols)
    a, b = sols
    np.testing.assert_array_equal(a, [1 + 0.2j, -3, 0.5 - 1j])
    assert a.names == ("x", "t", "m")
    assert (a.t, a.multiplicity, a.err, a.rco, a.res) == (1, 1, 1.234e-16, 0.345, 5.6e-17)
    np.testing.assert_array_equal(b, [0, 1.5 - 0.25j, -0.7])
    assert (b.t, b.multiplicity, b.rco) == (0, 2, 1e-31)
    # in the order asked for
    c = parse_solutions(PHC_LIST, ["m", "x", "t"])
    np.testing.assert_array_equal(c[0], [0.5 - 1j, 1 + 0.2j, -3])
    # pickles with its fields; ufuncs give plain arrays
    d = pickle.loads(pickle.dumps(a))
    assert d.rco == a.rco and np.array_equal(d, a)
    assert type(np.abs(a)) is np.ndarray


def test_parse_phcpy_strings_and_missing_variables():
    s = (
        "t :  1.00000000000000E+00   0.00000000000000E+00\nm : 1\nthe solution for t :\n"
        " x2 : -1.0E+00   0.0E+00\n x1 :  2.0E+00   3.0E+00\n"
        "== err :  0.000E+00 = rco :  1.000E+00 = res :  0.000E+00 ="
    )
    [sol] = parse_solutions(s, ["x1", "x2"])
    np.testing.assert_array_equal(sol, [2 + 3j, -1])
    assert len(parse_solutions([s, s])) == 2
    with pytest.raises(PHCParseError, match="no value for x3"):
        parse_solutions(s, ["x1", "x2", "x3"])
    with pytest.raises(PHCParseError, match="not closed"):
        parse_solutions(s.rsplit("\n", 1)[0])
    assert parse_solutions("") == []


def test_phcsolution_constructor():
    s = PHCSolution([1, 2j], ("a", "b"), multiplicity=3)
    assert s.multiplicity == 3 and np.isnan(s.rco) and s.dtype == np.complex128
