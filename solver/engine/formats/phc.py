"""PHCpack's text formats: polynomial systems (read and write) and solution lists (read).

System format (the input of ``phc``)::

    2
     x*y + 2*y^3 - 3.14E-01;
     3*(x + y)*x - 2/3 + (1.5 - 2*i)*y;

The first line holds ``n`` (that many polynomials in ``n`` unknowns) or ``n m``
(``n`` polynomials in ``m`` unknowns). Each polynomial ends with ``;``. Operators are
``+ - * / ^`` (``**`` too); parentheses are expanded; ``i`` and ``I`` are the imaginary unit
and never variables; a divisor must be a nonzero constant. Variables are numbered in order
of first appearance, which is PHCpack's own convention. Text after the last polynomial
(``TITLE :``, ``THE SOLUTIONS :`` ... that ``phc`` appends) is ignored.

The parser is a small recursive descent over a regex tokenizer: a polynomial is a dict
``{monomial: coefficient}`` with monomials as sorted ``((variable, power), ...)`` tuples.
"""

from __future__ import annotations

import bisect
import math
import re
from decimal import Decimal
from typing import NamedTuple, Sequence

import numpy as np

from solver.engine.system import InvalidSystem, Polynomial, System

__all__ = [
    "PHCParseError",
    "PHCSolution",
    "parse_system",
    "format_system",
    "parse_solutions",
    "format_number",
    "appearance_order",
]


class PHCParseError(InvalidSystem):
    """Malformed PHCpack text. ``str(err)`` is one line: ``line L, column C: what``.

    Attributes
    ----------
    line, column : int
        1-based position of the offending character.
    reason : str
        The message without the position.
    """

    def __init__(self, line: int, column: int, reason: str) -> None:
        self.line = int(line)
        self.column = int(column)
        self.reason = reason
        super().__init__(f"line {self.line}, column {self.column}: {reason}")


# ---------------------------------------------------------------------------------------
# tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n\f\v]+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^();])
    """,
    re.VERBOSE,
)

_SCAN = re.compile(_TOKEN.pattern + r"| (?P<bad>.)", re.VERBOSE | re.DOTALL)

#: a product of this many term pairs is refused (an expansion such as (x1+...+x9)^30)
_MAX_PRODUCT_TERMS = 20_000_000
_IMAGINARY = ("i", "I")

Monomial = tuple  # ((variable index, power), ...), sorted by variable index
Poly = dict  # {Monomial: complex}


class _Tok(NamedTuple):
    kind: str  # "num", "name", "op", "end", "bad" (a character no token starts with)
    text: str
    pos: int  # offset in the text


class _Text:
    """Offsets to (line, column), both 1-based."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def where(self, pos: int) -> tuple[int, int]:
        k = bisect.bisect_right(self.starts, pos) - 1
        return k + 1, pos - self.starts[k] + 1

    def error(self, pos: int, reason: str) -> PHCParseError:
        return PHCParseError(*self.where(pos), reason)


# ---------------------------------------------------------------------------------------
# polynomial arithmetic on dicts


def _mono_mul(a: Monomial, b: Monomial) -> Monomial:
    if not a:
        return b
    if not b:
        return a
    d = dict(a)
    for v, e in b:
        d[v] = d.get(v, 0) + e
    return tuple(sorted(d.items()))


def _mul(a: Poly, b: Poly, src: _Text, pos: int) -> Poly:
    if len(a) == 1 and len(b) == 1:  # the common case: a factor of a monomial
        (ka, ca), (kb, cb) = next(iter(a.items())), next(iter(b.items()))
        return {_mono_mul(ka, kb): ca * cb}
    if len(a) * len(b) > _MAX_PRODUCT_TERMS:
        raise src.error(pos, f"expansion too large ({len(a)} x {len(b)} terms)")
    out: Poly = {}
    for ka, ca in a.items():
        for kb, cb in b.items():
            k = _mono_mul(ka, kb)
            out[k] = out.get(k, 0) + ca * cb
    return out


def _power(a: Poly, k: int, src: _Text, pos: int) -> Poly:
    result: Poly = {(): 1.0}
    base = a
    while k:
        if k & 1:
            result = _mul(result, base, src, pos)
        k >>= 1
        if k:
            base = _mul(base, base, src, pos)
    return result


# ---------------------------------------------------------------------------------------
# recursive descent


class _Parser:
    """Parses polynomials from a token list; shares the variable table across polynomials."""

    def __init__(self, src: _Text, tokens: list[_Tok], variables: dict[str, int]) -> None:
        self.src = src
        self.toks = tokens
        self.k = 0
        self.vars = variables

    @property
    def tok(self) -> _Tok:
        return self.toks[self.k]

    def error(self, tok: _Tok, reason: str) -> PHCParseError:
        return self.src.error(tok.pos, reason)

    def polynomial(self, index: int) -> Poly:
        """One polynomial up to and including its ``;``."""
        if self.tok.kind == "end":
            raise self.error(self.tok, f"missing polynomial {index}")
        p = self.sum()
        t = self.tok
        if t.kind == "op" and t.text == ";":
            self.k += 1
            return p
        if t.kind == "end":
            raise self.error(t, f"missing ';' at the end of polynomial {index}")
        if t.kind == "op" and t.text == ")":
            raise self.error(t, "unbalanced parenthesis: ')' without '('")
        if t.kind == "bad":
            raise self.error(t, f"unexpected character {t.text!r}")
        raise self.error(t, f"unexpected {_describe(t)}, expected an operator or ';' (missing ';' or '*'?)")

    def sum(self) -> Poly:
        p = dict(self.term())
        while self.tok.kind == "op" and self.tok.text in "+-":
            minus = self.tok.text == "-"
            self.k += 1
            for k, c in self.term().items():  # in place: a long sum stays linear
                p[k] = p.get(k, 0) + (-c if minus else c)
        return p

    def term(self) -> Poly:
        p = self.factor()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.tok
            self.k += 1
            q = self.factor()
            if op.text == "*":
                p = _mul(p, q, self.src, op.pos)
            else:
                if any(k != () for k in q):
                    raise self.error(op, "division by a non-constant expression")
                c = q.get((), 0)
                if c == 0:
                    raise self.error(op, "division by zero")
                p = {k: v / c for k, v in p.items()}
        return p

    def factor(self) -> Poly:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.k += 1
            p = self.factor()
            return p if t.text == "+" else {k: -v for k, v in p.items()}
        return self.power()

    def power(self) -> Poly:
        base = self.atom()
        t = self.tok
        if t.kind == "op" and t.text in ("^", "**"):
            self.k += 1
            e = self.tok
            if e.kind == "op" and e.text == "-":
                raise self.error(e, "negative exponent: not a polynomial")
            if e.kind != "num" or not e.text.isdigit():
                raise self.error(e, f"expected a nonnegative integer exponent after {t.text!r}, found {_describe(e)}")
            self.k += 1
            nxt = self.tok
            if nxt.kind == "op" and nxt.text in ("^", "**"):
                raise self.error(nxt, "repeated exponent: write the power in parentheses")
            return _power(base, int(e.text), self.src, t.pos)
        return base

    def atom(self) -> Poly:
        t = self.tok
        if t.kind == "num":
            self.k += 1
            return {(): float(t.text)}
        if t.kind == "name":
            self.k += 1
            if t.text in _IMAGINARY:
                return {(): 1j}
            v = self.vars.setdefault(t.text, len(self.vars))
            return {((v, 1),): 1.0}
        if t.kind == "op" and t.text == "(":
            self.k += 1
            p = self.sum()
            close = self.tok
            if not (close.kind == "op" and close.text == ")"):
                line, col = self.src.where(t.pos)
                raise self.error(
                    close,
                    f"unbalanced parenthesis: '(' at line {line}, column {col} is not closed "
                    f"(found {_describe(close)})",
                )
            self.k += 1
            return p
        if t.kind == "op" and t.text == ")":
            raise self.error(t, "unbalanced parenthesis: ')' without '('")
        if t.kind == "bad":
            raise self.error(t, f"unexpected character {t.text!r}")
        if t.kind == "end":
            raise self.error(t, "unexpected end of input inside a polynomial (missing ';'?)")
        raise self.error(t, f"unexpected {_describe(t)}, expected a number, a variable or '('")


def _describe(t: _Tok) -> str:
    if t.kind == "end":
        return "end of input"
    if t.kind == "num":
        return f"number {t.text!r}"
    if t.kind == "name":
        return f"name {t.text!r}"
    return repr(t.text)


_COUNT_LINE = re.compile(r"[ \t\r\f\v]*(\d+)(?:[ \t\r\f\v]+(\d+))?[ \t\r\f\v]*(?:\n|$)")


def parse_system(text: str) -> System:
    """Read a system in PHCpack's input format.

    Parameters
    ----------
    text : str
        First line ``n`` or ``n m``, then ``n`` polynomials, each ending with ``;``.
        Anything after the ``n``-th polynomial that is not itself a polynomial (a title,
        a solution list) is ignored.

    Returns
    -------
    System
        Variables in order of first appearance (PHCpack's order).

    Raises
    ------
    PHCParseError
        With ``.line``, ``.column`` (1-based) and the message ``line L, column C: ...``.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_system needs a str, got {type(text).__name__}")
    src = _Text(text)
    # the count line: the first non-blank line
    m_blank = re.match(r"\s*", text)
    start = m_blank.end()
    if start >= len(text):
        raise src.error(0 if not text else start, "empty input: expected the number of polynomials")
    line_start = src.starts[src.where(start)[0] - 1]
    cm = _COUNT_LINE.match(text, line_start)
    if cm is None:
        # point at the first character on that line that is not part of a count
        bad = re.compile(r"[ \t\r\f\v]*(?:\d+[ \t\r\f\v]*){0,2}").match(text, line_start).end()
        found = text[bad:].split("\n", 1)[0].strip()
        raise src.error(
            bad,
            f"the first line must hold the number of polynomials (n or n m), found {found[:30]!r}",
        )
    n = int(cm.group(1))
    m = int(cm.group(2)) if cm.group(2) is not None else None
    n_pos = cm.start(1)
    if n < 1:
        raise src.error(n_pos, "the number of polynomials must be positive")
    if m is not None and m < 1:
        raise src.error(cm.start(2), "the number of variables must be positive")

    tokens = _tokenize_lazily(src, cm.end())
    variables: dict[str, int] = {}
    parser = _Parser(src, tokens, variables)
    polys: list[Poly] = []
    for k in range(n):
        if parser.tok.kind == "end":
            raise src.error(
                n_pos,
                f"the count line says {_plural(n, 'polynomial')}, the text has {k}",
            )
        polys.append(parser.polynomial(k + 1))
    _check_trailing(src, parser, n, n_pos)

    nv = len(variables)
    expected = m if m is not None else n
    if nv != expected:
        where = cm.start(2) if m is not None else n_pos
        listed = f" ({', '.join(variables)})" if 0 < nv <= 12 else ""
        raise src.error(
            where,
            f"the count line says {_plural(expected, 'variable')}, "
            f"the polynomials have {_plural(nv, 'variable')}{listed}",
        )
    names = tuple(sorted(variables, key=variables.get))
    return System(tuple(_to_polynomial(p, nv) for p in polys), names)


def _tokenize_lazily(src: _Text, start: int) -> list[_Tok]:
    """Tokens from ``start`` up to the first character no token starts with (a "bad"
    token): that character is an error only if the parser gets there, since text after
    the last polynomial (a title, a solution list) may hold anything."""
    out: list[_Tok] = []
    append = out.append
    for mt in _SCAN.finditer(src.text, start):
        kind = mt.lastgroup
        if kind == "ws":
            continue
        append(_Tok(kind, mt.group(), mt.start()))
        if kind == "bad":
            return out
    out.append(_Tok("end", "", len(src.text)))
    return out


def _check_trailing(src: _Text, parser: _Parser, n: int, n_pos: int) -> None:
    """After the n-th polynomial: blank, or text that is not a polynomial (ignored); one
    more complete polynomial means the count line is wrong."""
    if parser.tok.kind in ("end", "bad"):
        return
    probe = _Parser(src, parser.toks, dict(parser.vars))
    probe.k = parser.k
    try:
        probe.polynomial(n + 1)
    except PHCParseError:
        return  # a title, a solution list...: not a polynomial
    raise src.error(n_pos, f"the count line says {_plural(n, 'polynomial')}, the text has more")


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


def _to_polynomial(p: Poly, nv: int) -> Polynomial:
    items = [(k, c) for k, c in p.items()]
    exps = np.zeros((len(items), nv), dtype=np.int64)
    coeffs = np.empty(len(items), dtype=np.complex128)
    for r, (k, c) in enumerate(items):
        for v, e in k:
            exps[r, v] = e
        coeffs[r] = c
    return Polynomial(coeffs, exps)


# ---------------------------------------------------------------------------------------
# writing

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def format_number(x: float) -> str:
    """A float in E notation with the fewest digits that read back exactly
    (``0.2 -> '2.0E-01'``, ``1/3 -> '3.3333333333333331E-01'``)."""
    x = float(x)
    if not math.isfinite(x):
        raise InvalidSystem(f"cannot write the non-finite coefficient {x!r}")
    if x == 0:
        return "0.0E+00"
    sign = "-" if x < 0 else ""
    d = Decimal(repr(abs(x)))
    digits = "".join(map(str, d.as_tuple().digits)).lstrip("0") or "0"
    exp10 = d.adjusted()
    frac = digits[1:].rstrip("0") or "0"
    return f"{sign}{digits[0]}.{frac}E{exp10:+03d}"


def _coefficient(c: complex, has_monomial: bool) -> tuple[str, str]:
    """(sign, text) for one term's coefficient; text is '' for a unit coefficient."""
    re_, im = float(c.real), float(c.imag)
    if im == 0.0:
        sign = "-" if re_ < 0 else "+"
        if abs(re_) == 1.0 and has_monomial:
            return sign, ""
        return sign, format_number(abs(re_))
    if re_ == 0.0:
        sign = "-" if im < 0 else "+"
        return sign, f"{format_number(abs(im))}*i"
    isign = "-" if im < 0 else "+"
    return "+", f"({format_number(re_)} {isign} {format_number(abs(im))}*i)"


def _reading_order(p: Polynomial) -> list[int]:
    """Term rows in the order they are written: higher degree first, then by exponents."""
    if p.n_terms == 0:
        return []
    e = p.exponents
    # lexsort's last key is the primary one: degree descending, then exponents descending
    keys = [-e[:, j] for j in range(e.shape[1] - 1, -1, -1)] + [-e.sum(axis=1)]
    return np.lexsort(keys).tolist()


def appearance_order(system: System) -> list[int]:
    """Variable positions in the order of their first appearance in the text that
    :func:`format_system` writes when no declaration is needed (variables that occur in no
    term come last). Naming variable ``appearance_order[k]`` as the k-th variable makes
    ``format_system`` write no zero-term declarations."""
    order: list[int] = []
    seen = np.zeros(system.n_variables, dtype=bool)
    for p in system.polynomials:
        for r in _reading_order(p):
            for j in np.flatnonzero(p.exponents[r]):
                if not seen[j]:
                    seen[j] = True
                    order.append(int(j))
    order.extend(int(j) for j in np.flatnonzero(~seen))
    return order


def format_system(system: System, variables: Sequence[str] | None = None, declare: bool = True) -> str:
    """Write ``system`` in PHCpack's input format.

    Parameters
    ----------
    system : System
    variables : sequence of str, optional
        Names to write instead of ``system.variables``, position by position (the PHCpack
        backends pass ``x1..xn``: PHCpack reads ``e``/``E`` as part of a number).
    declare : bool
        Keep the order of ``system.variables`` for readers (see Notes). With False the
        terms are written in reading order only, and a reader numbers the variables in
        :func:`appearance_order`.

    Returns
    -------
    str
        ``n`` (or ``n m`` when not square) on the first line, then one polynomial per
        block, coefficients in full precision; :func:`parse_system` and ``phc`` read it.

    Notes
    -----
    Readers number variables in order of first appearance. The terms are ordered so that
    the variables appear in the order of ``system.variables``; where no term can bring in
    the next variable, a zero term ``+ 0*x`` declares it, so that ``parse_system`` gives back
    the same variable order. PHCpack keeps such zero terms in the supports (they change
    mixed volumes and polyhedral homotopies): to hand a system to PHCpack, write it with
    ``declare=False`` and number the variables in :func:`appearance_order`.
    """
    names = list(system.variables if variables is None else variables)
    _check_names(names, system.n_variables)
    n, m = system.n_equations, system.n_variables
    lines = [f"{n}" if n == m else f"{n} {m}"]
    # Readers number the variables in order of first appearance: order the terms so that
    # x_1, x_2, ... first appear in this order; where no term can introduce the next
    # variable, a zero term "0*x_k" declares it (phc registers it too).
    seen = 0  # variables 0..seen-1 have appeared
    for p in system.polynomials:
        parts, seen = _polynomial_terms(p, names, seen if declare else m)
        lines.append(_wrap(parts or ["0"]) + ";")
    if declare and seen < m:
        # variables that occur in no term: declare them in the last polynomial
        extra = " ".join(f"+ 0*{names[j]}" for j in range(seen, m))
        lines[-1] = lines[-1][:-1] + "\n " + extra + ";"
    return "\n".join(lines) + "\n"


def _check_names(names: list[str], n_variables: int) -> None:
    """Raise :class:`InvalidSystem` unless ``names`` are ``n_variables`` distinct names
    that PHCpack reads as variables."""
    if len(names) != n_variables:
        raise InvalidSystem(f"{len(names)} names for {n_variables} variables")
    for v in names:
        if not _NAME.match(v) or v in _IMAGINARY:
            raise InvalidSystem(
                f"variable name {v!r} cannot be written in PHCpack format "
                "(letters, digits, '_', starting with a letter; not 'i' or 'I')"
            )
    if len(set(names)) != len(names):
        raise InvalidSystem("variable names must be distinct")


def _next_term(p: Polynomial, remaining: list[int], seen: int) -> tuple[int | None, int]:
    """Index into ``remaining`` of the term to write next while variables ``0..seen-1``
    have appeared: the next term in reading order if it brings no variable out of order,
    else the first term that brings exactly the next unseen variables; None when no term
    can (the next variable needs a declaration). Also returns the new ``seen``."""
    for idx, r in enumerate(remaining):
        new = np.flatnonzero(p.exponents[r, seen:]) + seen
        fits = new.size == 0 or new[-1] == seen + new.size - 1
        if fits and (idx == 0 or new.size):
            return idx, seen + new.size
    return None, seen


def _polynomial_terms(p: Polynomial, names: list[str], seen: int) -> tuple[list[str], int]:
    """The signed terms of ``p`` in writing order, with ``+ 0*x`` declarations where the
    next variable (after ``0..seen-1``) cannot appear otherwise; and the new ``seen``.
    With ``seen`` equal to the number of variables, the terms come in reading order."""
    m = len(names)
    rows = p.exponents.tolist()
    coeffs = p.coefficients.tolist()
    remaining = _reading_order(p)
    parts: list[str] = []
    while remaining:
        pick = 0
        if seen < m:
            pick, seen_after = _next_term(p, remaining, seen)
            if pick is None:
                parts.append(f"+ 0*{names[seen]}")
                seen += 1
                continue
            seen = seen_after
        r = remaining.pop(pick)
        mono = "*".join((names[j] if k == 1 else f"{names[j]}^{k}") for j, k in enumerate(rows[r]) if k)
        sign, coef = _coefficient(coeffs[r], bool(mono))
        body = "*".join(c for c in (coef, mono) if c)
        parts.append(f"{sign} {body}")
    return parts, seen


def _wrap(parts: list[str], width: int = 78) -> str:
    out, line = [], " "
    for s in parts:
        if len(line) > 1 and len(line) + len(s) + 1 > width:
            out.append(line)
            line = " "
        line += (" " if len(line) > 1 else "") + s
    out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# solution lists


class PHCSolution(np.ndarray):
    """One solution of a PHCpack solution list: a complex vector (the values, in the order
    asked for) that also carries PHCpack's diagnostics.

    Attributes
    ----------
    names : tuple of str
        The variable names of the values, in order.
    t : complex
        The continuation parameter at the end of the path.
    multiplicity : int
        The ``m :`` field.
    err, rco, res : float
        Last Newton update, inverse condition number estimate, residual (nan if absent).
    """

    names: tuple[str, ...]
    t: complex
    multiplicity: int
    err: float
    rco: float
    res: float

    def __new__(cls, values, names=(), t=1.0, multiplicity=1, err=np.nan, rco=np.nan, res=np.nan):
        obj = np.asarray(values, dtype=np.complex128).view(cls)
        obj.names = tuple(names)
        obj.t = complex(t)
        obj.multiplicity = int(multiplicity)
        obj.err, obj.rco, obj.res = float(err), float(rco), float(res)
        return obj

    def __array_finalize__(self, obj) -> None:
        if obj is None:
            return
        self.names = getattr(obj, "names", ())
        self.t = getattr(obj, "t", 1.0)
        self.multiplicity = getattr(obj, "multiplicity", 1)
        self.err = getattr(obj, "err", np.nan)
        self.rco = getattr(obj, "rco", np.nan)
        self.res = getattr(obj, "res", np.nan)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        # results of ufuncs and reductions (abs(s), s.max()) are plain arrays or scalars:
        # the diagnostics belong to the solution, not to values computed from it
        arr = np.asarray(arr).view(np.ndarray)
        return arr[()] if return_scalar else arr

    def __reduce__(self):
        # pickle the plain values with the fields (ndarray's default drops attributes)
        return (
            _rebuild_solution,
            (np.asarray(self), self.names, self.t, self.multiplicity, self.err, self.rco, self.res),
        )


def _rebuild_solution(values, names, t, multiplicity, err, rco, res) -> PHCSolution:
    return PHCSolution(values, names, t, multiplicity, err, rco, res)


_FLOAT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?"
_T_LINE = re.compile(rf"^\s*t\s*:\s*({_FLOAT})\s+({_FLOAT})")
_M_LINE = re.compile(r"^\s*m\s*:\s*(\d+)")
_FOR_T = re.compile(r"^\s*the solution for t\s*:")
_COORD = re.compile(rf"^\s*([A-Za-z][A-Za-z0-9_]*)\s*:\s*({_FLOAT})\s+({_FLOAT})\s*$")
_DIAG = re.compile(rf"err\s*:\s*({_FLOAT}).*?rco\s*:\s*({_FLOAT}).*?res\s*:\s*({_FLOAT})")


def _f(s: str) -> float:
    return float(s.replace("D", "E").replace("d", "e"))


def parse_solutions(text: str | Sequence[str], variables: Sequence[str] | None = None) -> list[PHCSolution]:
    """Read a PHCpack solution list.

    Accepts the ``THE SOLUTIONS :`` section that ``phc -b`` writes (with or without the
    header, with anything before it) and the strings phcpy returns (one solution each, or
    a list of them)::

        t :  1.00000000000000E+00   0.00000000000000E+00
        m : 1
        the solution for t :
         x1 :  1.00000000000000E+00   2.00000000000000E-01
         x2 : -3.00000000000000E+00   0.00000000000000E+00
        == err :  1.2E-16 = rco :  3.4E-01 = res :  5.6E-17 =

    Parameters
    ----------
    text : str or sequence of str
    variables : sequence of str, optional
        Order of the values in the result; by default the order of the first solution.

    Returns
    -------
    list of PHCSolution
        Complex vectors (``numpy.ndarray`` subclass) with ``multiplicity``, ``err``,
        ``rco``, ``res``, ``t`` and ``names``.

    Raises
    ------
    PHCParseError
        When a solution lacks a variable of ``variables`` or a coordinate line is malformed.
    """
    if not isinstance(text, str):
        text = "\n".join(text)
    lines = text.splitlines()
    # only the last "THE SOLUTIONS" section: phc's output holds several (start, then end)
    start = 0
    for k, line in enumerate(lines):
        if line.strip().upper().startswith("THE SOLUTIONS"):
            start = k + 1
    order = list(variables) if variables is not None else None
    out: list[PHCSolution] = []
    t, mult = 1.0 + 0j, 1
    coords: dict[str, complex] | None = None
    first_line = 0
    for k in range(start, len(lines)):
        line = lines[k]
        if coords is None:
            if (mt := _T_LINE.match(line)) is not None:
                t = complex(_f(mt.group(1)), _f(mt.group(2)))
                mult = 1
                first_line = k + 1
            elif (mm := _M_LINE.match(line)) is not None:
                mult = int(mm.group(1))
            elif _FOR_T.match(line):
                coords = {}
                first_line = first_line or k + 1
            continue
        mc = _COORD.match(line)
        if mc is not None:
            coords[mc.group(1)] = complex(_f(mc.group(2)), _f(mc.group(3)))
            continue
        md = _DIAG.search(line)
        if md is None and not line.strip().startswith("=="):
            raise PHCParseError(k + 1, 1, f"malformed coordinate line {line.strip()[:40]!r}")
        err, rco, res = (_f(g) for g in md.groups()) if md else (np.nan,) * 3
        if order is None:
            order = list(coords)
        missing = [v for v in order if v not in coords]
        if missing:
            raise PHCParseError(first_line, 1, f"the solution has no value for {', '.join(missing)}")
        out.append(PHCSolution([coords[v] for v in order], order, t, mult, err, rco, res))
        coords, t, mult, first_line = None, 1.0 + 0j, 1, 0
    if coords is not None:
        raise PHCParseError(len(lines), 1, "the last solution is not closed by its '== err : ...' line")
    return out
