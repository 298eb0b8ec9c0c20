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

Hostile text is refused cheaply, before the work it would cause (:class:`ParseLimits`):
the text size, the digits of a number, the nesting depth, the degree of an exponent, a
product or a power, and the terms of a product or a sum are all checked before anything
is expanded; a coefficient that overflows to infinity and an identically zero polynomial
are refused with their place.
"""

from __future__ import annotations

import bisect
import cmath
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Sequence

import numpy as np

from solver.engine.system import InvalidSystem, Polynomial, System

__all__ = [
    "ParseLimits",
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


@dataclass(frozen=True)
class ParseLimits:
    """Bounds :func:`parse_system` enforces before the work each would cause.

    Every violation is a :class:`PHCParseError` at the offending place whose reason names
    the limit and its value.

    Attributes
    ----------
    max_chars : int
        Characters of the whole text (1,000,000: some 30,000 terms written in full
        precision, far more than the benchmark systems; everything the parser does
        before a limit stops it is linear in the text).
    max_terms : int
        Terms of one polynomial after expansion; a product ``a*b`` (and each squaring of a
        power) with ``len(a) * len(b)`` above it is refused before expanding, so it also
        bounds the work of every intermediate product (100,000: about 0.1 s of Python).
        The term pairs multiplied (and terms divided) over the whole text are bounded by
        ``5 * max_terms`` (about a second): ``(x1+...+x9+1)^6*2*2*...`` would otherwise
        repeat a bounded product without end.
    max_degree : int
        Total degree of one polynomial, of every exponent and of every intermediate
        product (1,000: ``x^1000 - 1`` is solved, its 1,000 roots in about 2 s with the
        numba engine; the kernels keep a power table of ``n x (degree + 1)`` per path and
        the structure search costs about ``degree^2``, so the degree is bounded for the
        same reason as the path count).
    max_digits : int
        Digits of one number, exponent digits included (400: a double holds 17
        significant digits and its exponent 3; longer numbers only cost ``float()`` time
        and overflow).
    max_nesting : int
        Depth of parentheses (100: the descent uses six Python frames per level, 600
        stay well below Python's recursion limit of 1,000; at most 150).
    """

    max_chars: int = 1_000_000
    max_terms: int = 100_000
    max_degree: int = 1_000
    max_digits: int = 400
    max_nesting: int = 100

    def __post_init__(self) -> None:
        for name in ("max_chars", "max_terms", "max_degree", "max_digits", "max_nesting"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ParseLimits.{name} must be positive")
        if self.max_nesting > _NESTING_CEILING:
            raise ValueError(f"ParseLimits.max_nesting must be at most {_NESTING_CEILING} (Python's recursion limit)")


#: the deepest nesting the recursive descent supports under Python's default recursion limit
_NESTING_CEILING = 150
#: the term operations of one text, in units of max_terms
_WORK_FACTOR = 5
#: entries of the dense exponent tables (terms x variables): 80 MB of int64
_MAX_TABLE_ENTRIES = 10_000_000


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


def _degree(p: Poly) -> int:
    return max((sum(e for _, e in k) for k in p), default=0)


def _check_finite(p: Poly, src: _Text, pos: int) -> Poly:
    """Refuse a coefficient that overflowed (``1E308*10``): the kernels need finite ones."""
    for c in p.values():
        if not cmath.isfinite(c):
            raise src.error(pos, "coefficient overflows the double range (|c| > 1.8E+308)")
    return p


class _Work:
    """The term operations spent on one text, against ``_WORK_FACTOR * max_terms``."""

    def __init__(self, src: _Text, limits: ParseLimits) -> None:
        self.src, self.limits = src, limits
        self.left = _WORK_FACTOR * limits.max_terms

    def spend(self, k: int, pos: int) -> None:
        self.left -= k
        if self.left < 0:
            raise self.src.error(
                pos, f"expansion work exceeds {_WORK_FACTOR} x max_terms={self.limits.max_terms} term operations"
            )


def _mul(a: Poly, b: Poly, src: _Text, pos: int, limits: ParseLimits, work: _Work) -> Poly:
    """``a*b``, refused before expanding when its term pairs or its degree exceed
    ``limits`` or the text's ``work`` budget is spent."""
    if len(a) * len(b) > limits.max_terms:
        raise src.error(pos, f"product of {len(a)} x {len(b)} terms exceeds max_terms={limits.max_terms}")
    if len(a) == 1 and len(b) == 1:  # the common case (bounded by the text): a factor of a monomial
        (ka, ca), (kb, cb) = next(iter(a.items())), next(iter(b.items()))
        k = _mono_mul(ka, kb)
        if sum(e for _, e in k) > limits.max_degree:
            raise src.error(pos, f"product of degree {sum(e for _, e in k)} exceeds max_degree={limits.max_degree}")
        return _check_finite({k: ca * cb}, src, pos)
    degree = _degree(a) + _degree(b)
    if degree > limits.max_degree:
        raise src.error(pos, f"product of degree {degree} exceeds max_degree={limits.max_degree}")
    work.spend(len(a) * len(b), pos)
    out: Poly = {}
    for ka, ca in a.items():
        for kb, cb in b.items():
            k = _mono_mul(ka, kb)
            out[k] = out.get(k, 0) + ca * cb
    return _check_finite(out, src, pos)


def _power(a: Poly, k: int, src: _Text, pos: int, limits: ParseLimits, work: _Work) -> Poly:
    """``a^k`` by repeated squaring; its degree is checked before any product."""
    degree = _degree(a) * k
    if degree > limits.max_degree:
        raise src.error(pos, f"power of degree {degree} exceeds max_degree={limits.max_degree}")
    result: Poly = {(): 1.0}
    base = a
    while k:
        if k & 1:
            result = _mul(result, base, src, pos, limits, work)
        k >>= 1
        if k:
            base = _mul(base, base, src, pos, limits, work)
    return result


# ---------------------------------------------------------------------------------------
# recursive descent


class _Parser:
    """Parses polynomials from a token list; shares the variable table across polynomials."""

    def __init__(self, src: _Text, tokens: _Tokens, variables: dict[str, int], limits: ParseLimits) -> None:
        self.src = src
        self.toks = tokens
        self.k = 0
        self.vars = variables
        self.limits = limits
        self.work = _Work(src, limits)
        self.depth = 0  # open parentheses around the current token

    @property
    def tok(self) -> _Tok:
        return self.toks[self.k]

    def error(self, tok: _Tok, reason: str) -> PHCParseError:
        return self.src.error(tok.pos, reason)

    def polynomial(self, index: int) -> Poly:
        """One polynomial up to and including its ``;``."""
        first = self.tok
        if first.kind == "end":
            raise self.error(first, f"missing polynomial {index}")
        p = self.sum()
        t = self.tok
        if t.kind == "op" and t.text == ";":
            # exact zeros on purpose: only a cancellation to exactly 0 (x - x) is refused,
            # a tiny coefficient is a coefficient
            if all(c == 0 for c in p.values()):
                raise self.error(first, f"polynomial {index} is identically zero")
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
            op = self.tok
            minus = op.text == "-"
            self.k += 1
            for k, c in self.term().items():  # in place: a long sum stays linear
                v = p[k] = p.get(k, 0) + (-c if minus else c)
                if not cmath.isfinite(v):
                    raise self.error(op, "coefficient overflows the double range (|c| > 1.8E+308)")
            if len(p) > self.limits.max_terms:
                raise self.error(op, f"more than max_terms={self.limits.max_terms} terms in one polynomial")
        return p

    def term(self) -> Poly:
        p = self.factor()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.tok
            self.k += 1
            q = self.factor()
            if op.text == "*":
                p = _mul(p, q, self.src, op.pos, self.limits, self.work)
            else:
                if any(k != () for k in q):
                    raise self.error(op, "division by a non-constant expression")
                c = q.get((), 0)
                if c == 0:
                    raise self.error(op, "division by zero")
                self.work.spend(len(p), op.pos)
                p = _check_finite({k: v / c for k, v in p.items()}, self.src, op.pos)
        return p

    def factor(self) -> Poly:
        # signs in a loop, not by recursion: "- - - ... x" must not reach the recursion limit
        negate = False
        while self.tok.kind == "op" and self.tok.text in "+-":
            negate ^= self.tok.text == "-"
            self.k += 1
        p = self.power()
        if negate:
            self.work.spend(len(p), self.tok.pos)
            return {k: -v for k, v in p.items()}
        return p

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
            exponent = self.exponent(e)
            self.k += 1
            nxt = self.tok
            if nxt.kind == "op" and nxt.text in ("^", "**"):
                raise self.error(nxt, "repeated exponent: write the power in parentheses")
            return _power(base, exponent, self.src, t.pos, self.limits, self.work)
        return base

    def exponent(self, e: _Tok) -> int:
        """The exponent's value, refused by its digit count before ``int()`` reads it."""
        digits = e.text.lstrip("0") or "0"
        top = self.limits.max_degree
        if len(digits) > len(str(top)) or int(digits) > top:
            shown = digits if len(digits) <= 20 else f"{digits[:8]}... ({len(digits)} digits)"
            raise self.error(e, f"exponent {shown} exceeds max_degree={top}")
        return int(digits)

    def number(self, t: _Tok) -> Poly:
        n_digits = sum(ch.isdigit() for ch in t.text[: self.limits.max_digits + 8])
        if n_digits > self.limits.max_digits:
            raise self.error(t, f"number with more than max_digits={self.limits.max_digits} digits")
        value = float(t.text)
        if not math.isfinite(value):
            raise self.error(t, f"number {t.text[:40]!r} overflows the double range (|c| > 1.8E+308)")
        return {(): value}

    def atom(self) -> Poly:
        t = self.tok
        if t.kind == "num":
            self.k += 1
            return self.number(t)
        if t.kind == "name":
            self.k += 1
            if t.text in _IMAGINARY:
                return {(): 1j}
            v = self.vars.setdefault(t.text, len(self.vars))
            return {((v, 1),): 1.0}
        if t.kind == "op" and t.text == "(":
            return self.parenthesised(t)
        if t.kind == "op" and t.text == ")":
            raise self.error(t, "unbalanced parenthesis: ')' without '('")
        if t.kind == "bad":
            raise self.error(t, f"unexpected character {t.text!r}")
        if t.kind == "end":
            raise self.error(t, "unexpected end of input inside a polynomial (missing ';'?)")
        raise self.error(t, f"unexpected {_describe(t)}, expected a number, a variable or '('")

    def parenthesised(self, t: _Tok) -> Poly:
        if self.depth >= self.limits.max_nesting:
            raise self.error(t, f"parentheses nested deeper than max_nesting={self.limits.max_nesting}")
        self.depth += 1
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
        self.depth -= 1
        return p


def _describe(t: _Tok) -> str:
    if t.kind == "end":
        return "end of input"
    if t.kind == "num":
        return f"number {t.text!r}"
    if t.kind == "name":
        return f"name {t.text!r}"
    return repr(t.text)


_COUNT_LINE = re.compile(r"[ \t\r\f\v]*(\d+)(?:[ \t\r\f\v]+(\d+))?[ \t\r\f\v]*(?:\n|$)")


def parse_system(text: str, limits: ParseLimits | None = None) -> System:
    """Read a system in PHCpack's input format.

    Parameters
    ----------
    text : str
        First line ``n`` or ``n m``, then ``n`` polynomials, each ending with ``;``.
        Anything after the ``n``-th polynomial that is not itself a polynomial (a title,
        a solution list) is ignored.
    limits : ParseLimits, optional
        Size, degree, term, digit and nesting bounds (default ``ParseLimits()``).

    Returns
    -------
    System
        Variables in order of first appearance (PHCpack's order).

    Raises
    ------
    PHCParseError
        With ``.line``, ``.column`` (1-based) and the message ``line L, column C: ...``;
        for every malformed or over-limit text, and for an identically zero polynomial.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_system needs a str, got {type(text).__name__}")
    limits = ParseLimits() if limits is None else limits
    if len(text) > limits.max_chars:
        pos = limits.max_chars
        line = text.count("\n", 0, pos) + 1
        raise PHCParseError(line, pos - text.rfind("\n", 0, pos), f"text longer than max_chars={limits.max_chars} characters")
    src = _Text(text)
    n, m, n_pos, m_pos, body = _count_line(src, limits)
    tokens = _Tokens(src, body)
    variables: dict[str, int] = {}
    parser = _Parser(src, tokens, variables, limits)
    try:
        polys = _polynomials(src, parser, n, n_pos)
    except RecursionError:  # a safety net: max_nesting keeps the descent far from it
        raise src.error(parser.tok.pos, "expression nested too deeply") from None

    nv = len(variables)
    expected = m if m is not None else n
    if nv != expected:
        where = m_pos if m is not None else n_pos
        listed = f" ({', '.join(variables)})" if 0 < nv <= 12 else ""
        raise src.error(
            where,
            f"the count line says {_plural(expected, 'variable')}, "
            f"the polynomials have {_plural(nv, 'variable')}{listed}",
        )
    if sum(len(p) for p in polys) * nv > _MAX_TABLE_ENTRIES:
        raise src.error(n_pos, f"{sum(len(p) for p in polys)} terms in {nv} variables: the exponent tables would exceed {_MAX_TABLE_ENTRIES} entries")
    names = tuple(sorted(variables, key=variables.get))
    return System(tuple(_to_polynomial(p, nv) for p in polys), names)


def _count_line(src: _Text, limits: ParseLimits) -> tuple[int, int | None, int, int, int]:
    """``(n, m or None, offset of n, offset of m, offset after the line)`` of the first
    non-blank line; its numbers are refused by their digit count before ``int()``."""
    text = src.text
    start = re.match(r"\s*", text).end()
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
    for g in (1, 2):
        if cm.group(g) is not None and len(cm.group(g)) > limits.max_digits:
            raise src.error(cm.start(g), f"number with more than max_digits={limits.max_digits} digits")
    n = int(cm.group(1))
    m = int(cm.group(2)) if cm.group(2) is not None else None
    if n < 1:
        raise src.error(cm.start(1), "the number of polynomials must be positive")
    if m is not None and m < 1:
        raise src.error(cm.start(2), "the number of variables must be positive")
    return n, m, cm.start(1), cm.start(2), cm.end()


def _polynomials(src: _Text, parser: _Parser, n: int, n_pos: int) -> list[Poly]:
    """The ``n`` polynomials after the count line, then the check of what follows."""
    polys: list[Poly] = []
    for k in range(n):
        if parser.tok.kind == "end":
            raise src.error(
                n_pos,
                f"the count line says {_plural(n, 'polynomial')}, the text has {k}",
            )
        polys.append(parser.polynomial(k + 1))
    _check_trailing(src, parser, n, n_pos)
    return polys


class _Tokens:
    """Tokens from ``start``, scanned only as far as the parser reads (a refused
    polynomial costs no scanning of the rest), up to the first character no token starts
    with (a "bad" token): that character is an error only if the parser gets there, since
    text after the last polynomial (a title, a solution list) may hold anything."""

    def __init__(self, src: _Text, start: int) -> None:
        self.items: list[_Tok] = []
        self.scan = _SCAN.finditer(src.text, start)
        self.stop = len(src.text)

    def __getitem__(self, k: int) -> _Tok:
        items = self.items
        while k >= len(items):
            mt = next(self.scan, None)
            if mt is None:
                items.append(_Tok("end", "", self.stop))
            elif mt.lastgroup != "ws":
                items.append(_Tok(mt.lastgroup, mt.group(), mt.start()))
        return items[k]


def _check_trailing(src: _Text, parser: _Parser, n: int, n_pos: int) -> None:
    """After the n-th polynomial: blank, or text that is not a polynomial (ignored); one
    more complete polynomial means the count line is wrong."""
    if parser.tok.kind in ("end", "bad"):
        return
    probe = _Parser(src, parser.toks, dict(parser.vars), parser.limits)
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
