"""Exact Boolean minimisation: Quine–McCluskey prime implicants and every minimum cover of the chart.

Written here, not taken from a library: the one Python QCA package on PyPI (setqca 0.2.0, tried
against R QCA on Lipset's data) is an alpha release that pins pandas < 3 (this project runs on
pandas 3), caps the models it lists (max_solutions) and marks its intermediate solution as
experimental; general minimisers (sympy's SOPform, pyeda's espresso) return one cover, where QCA
must list every model of an ambiguous solution.

As R QCA's minimize() (all.sol = FALSE, row.dom = FALSE): a solution's models are all the covers of
the positive configurations by prime implicants that use the fewest prime implicants.

- conservative: prime implicants of the positive configurations alone;
- parsimonious: remainders may be covered too (include = "?");
- intermediate: for each conservative model C and parsimonious model P, the easy counterfactuals are
  the remainders inside a term of C with its literals that contradict the directional expectations
  dropped, as long as what is left still lies inside a term of P containing the original term (Ragin and
  Sonnett 2005); the positive configurations are then minimised with those remainders only.
"""

from __future__ import annotations

import math
import time
from functools import reduce
from itertools import combinations
from operator import or_

import numpy as np

from casemeta.errors import CasemetaError
from casemeta.stats.qca.sets import Term, bit

# more models than this (possible only in large, random-like truth tables) are cut off, and the result says so
MAX_MODELS = 100
# search steps after which the listing of models stops (the minimum number of terms is still exact)
MAX_NODES = 50_000
# prime implicants are found by expansion (arrays of this many booleans or fewer) where they fit
EXPANSION_CELLS = 2 ** 22
# seconds the exact minimum covers of one QCA (all its solutions) may take: finding the fewest prime
# implicants is a set-cover problem (NP-hard), so on a large, dense truth table (12 random conditions and
# 1,000 cases: the integer programme ran for minutes) the run stops with an error naming this limit
MINIMISE_SECONDS = 60.0


def deadline_after(seconds: float | None = None) -> float:
    """The time.monotonic() by which a minimisation must end: `seconds` (default MINIMISE_SECONDS) from now."""
    return time.monotonic() + (MINIMISE_SECONDS if seconds is None else seconds)


def _too_long(what: str, configurations: int, implicants: int | None = None) -> CasemetaError:
    by = f" by {implicants} prime implicant(s)" if implicants is not None else ""
    return CasemetaError(
        f"QCA minimisation stopped at its time limit ({MINIMISE_SECONDS:g} s, casemeta.stats.qca.minimize.MINIMISE_SECONDS): "
        f"{what} of {configurations} positive configuration(s){by} was not found; an "
        "exact solution of a truth table this large and this dense is out of reach. Use fewer conditions, or a higher "
        "frequency cut (--n-cut) so that fewer configurations take part")


def prime_implicants(on: set[int], dont_care: set[int], k: int) -> list[Term]:
    """The prime implicants of on ∪ dont_care that cover at least one configuration of `on`: by expanding each
    configuration of `on` where its tables (configurations of `on` by all configurations) are small enough,
    else by merging (Quine–McCluskey) where on ∪ dont_care is the smaller side."""
    if len(on) * 2 ** k > EXPANSION_CELLS and len(on | dont_care) * 2 <= 2 ** k:
        primes = _merged(on, dont_care, k)
    else:
        primes = _expanded(on, set(range(2 ** k)) - on - dont_care, k)
    return sorted(primes, key=lambda t: (-bin(t[0]).count("1"), t))


def _expanded(on: set[int], off: set[int], k: int) -> set[Term]:
    """The widest cubes around each configuration m of `on` that avoid `off`: a cube keeping the literals
    S of m takes in o exactly where S lies inside the conditions on which o and m agree, so the cubes
    taking in some o are the subsets of those agreement sets (marked, then passed down to every subset one
    condition at a time); the prime ones are the minimal S left (no literal can go). All of `on` at once."""
    full = 2 ** k - 1
    ms = np.array(sorted(on), dtype=np.int64)
    bad = np.zeros((len(ms), 2 ** k), bool)
    if off:
        agree = full ^ (ms[:, None] ^ np.array(sorted(off), dtype=np.int64)[None, :])
        bad[np.repeat(np.arange(len(ms)), agree.shape[1]), agree.ravel()] = True
    halves = [(len(ms), 2 ** (k - 1 - b), 2, 2 ** b) for b in range(k)]  # [.., without b / with b, ..]
    for shape in halves:
        split = bad.reshape(shape)
        split[:, :, 0, :] |= split[:, :, 1, :]
    prime = ~bad
    for shape in halves:
        prime.reshape(shape)[:, :, 1, :] &= bad.reshape(shape)[:, :, 0, :]
    rows, cols = np.nonzero(prime)
    return {(int(S), int(m) & int(S)) for m, S in zip(ms[rows], cols)}


def _merged(on: set[int], dont_care: set[int], k: int) -> set[Term]:
    """Quine–McCluskey: pairs of implicants differing in one present/absent literal merge, level by level
    (implicants grouped by their literals, so that each pairing is one set operation)."""
    level: dict[int, set[int]] = {(1 << k) - 1: on | dont_care}
    primes: set[Term] = set()
    while level:
        merged: dict[int, set[int]] = {}
        for mask, values in level.items():
            used: set[int] = set()
            for b in (1 << i for i in range(k) if mask >> i & 1):
                lower = {v for v in values if not v & b and v | b in values}
                if lower:
                    used |= lower
                    used.update(v | b for v in lower)
                    merged.setdefault(mask & ~b, set()).update(lower)
            primes.update((mask, v) for v in values - used)
        level = merged
    ordered = list(primes)
    return {p for p, used in zip(ordered, _chart(on, ordered).any(axis=0)) if used}


def _chart(configurations, terms: list[Term]) -> np.ndarray:
    """Which term covers which configuration (configurations by terms, booleans)."""
    masks, values = (np.array([t[i] for t in terms], dtype=np.int64).reshape(1, -1) for i in (0, 1))
    return np.array(list(configurations), dtype=np.int64).reshape(-1, 1) & masks == values


def minimum_covers(on: set[int], implicants: list[Term], limit: int = MAX_MODELS,
                   deadline: float | None = None) -> tuple[list[list[Term]], bool]:
    """Every cover of `on` by the fewest implicants (each as a list in the order of `implicants`), and
    whether the listing was cut short (more than `limit` models, or more than MAX_NODES search steps).

    Essential implicants are in every cover; a configuration whose implicants include all those of another
    is covered whenever the other is, so it is dropped. The fewest implicants covering the rest is found
    exactly (`_fewest`); the covers of that size are then listed by branching on the configuration with the
    fewest implicants left (the implicants of the minimum cover already found first, so the listing always
    holds one, then those covering most), each cover once (a branch forbids the implicants of the branches
    before it), pruned by a lower bound: configurations no two of which share an implicant need one
    implicant each."""
    chart = np.packbits(_chart(on, implicants), axis=1, bitorder="little")
    covered_by = {m: int.from_bytes(row.tobytes(), "little") for m, row in zip(on, chart)}
    essential = 0
    for col in covered_by.values():
        if col & (col - 1) == 0:
            essential |= col
    left = _undominated({col for col in covered_by.values() if not col & essential})
    size, best = _fewest(left, deadline_after() if deadline is None else deadline) if left else (0, 0)
    search = _CoverSearch(left, limit, dict.fromkeys(_bits(best), 1))
    if left:  # the known minimum cover's implicants are tried first: the listing never misses it
        search.run((1 << len(left)) - 1, size, 0, 0)
    found = [essential | chosen for chosen in search.found[:limit]] or [essential]
    models = sorted([j for j in range(len(implicants)) if c >> j & 1] for c in found)
    return [[implicants[j] for j in c] for c in models], search.cut


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _undominated(columns: set[int]) -> list[int]:
    """The configurations' implicant sets (bit masks) that contain no other's (a superset is covered along with it)."""
    kept: list[int] = []
    for col in sorted(columns, key=int.bit_count):
        if not any(k & col == k for k in kept):
            kept.append(col)
    return kept


def _rows(columns: list[int]) -> dict[int, int]:
    """The chart the other way round: for each implicant, the bit mask of the configurations (indices in
    `columns`) it covers, so that counting what an implicant covers is one popcount."""
    rows: dict[int, int] = {}
    for i, col in enumerate(columns):
        for j in _bits(col):
            rows[j] = rows.get(j, 0) | 1 << i
    return rows


def _fewest(columns: list[int], deadline: float) -> tuple[int, int]:
    """The fewest implicants that meet every set in `columns`, and such a set of implicants (a bit mask):
    where a greedy cover is as small as the lower bound, that; otherwise the chart is reduced (essential
    implicants taken; an implicant covering only what another covers dropped, which keeps the minimum size
    though not every model; configurations dominated as above dropped) and what is left solved as a
    set-cover integer programme (exactly, by HiGHS through SciPy)."""
    greedy = _greedy_cover(columns)
    if greedy.bit_count() == _lower_bound(columns):
        return greedy.bit_count(), greedy
    taken, columns = _reduced(columns)
    if not columns:
        return taken.bit_count(), taken
    bound, rounded = _relaxation(columns, deadline)
    if rounded.bit_count() == math.ceil(bound - 1e-6) and all(col & rounded for col in columns):
        return (taken | rounded).bit_count(), taken | rounded
    from scipy.optimize import Bounds, LinearConstraint, milp  # imported here: only minimisation needs it

    variables, matrix = _matrix(columns)
    left = deadline - time.monotonic()
    if left <= 0:
        raise _too_long("the fewest prime implicants covering the chart", len(columns), len(variables))
    result = milp(np.ones(len(variables)), constraints=LinearConstraint(matrix, lb=1), integrality=np.ones(len(variables)),
                  bounds=Bounds(0, 1), options={"time_limit": left})
    if result.status != 0 or result.x is None:  # stopped at the time limit: the cover found may not be the fewest
        raise _too_long("the fewest prime implicants covering the chart", len(columns), len(variables))
    cover = taken | sum(1 << j for j, x in zip(variables, result.x) if x > 0.5)
    return cover.bit_count(), cover


def _matrix(columns: list[int]) -> tuple[list[int], np.ndarray]:
    """The implicants met by `columns`, and the 0/1 chart (configurations by those implicants)."""
    variables = _bits(reduce(or_, columns))
    index = {j: i for i, j in enumerate(variables)}
    matrix = np.zeros((len(columns), len(variables)))
    for r, col in enumerate(columns):
        matrix[r, [index[j] for j in _bits(col)]] = 1
    return variables, matrix


def _linear_relaxation(columns: list[int]) -> tuple[float, dict[int, float]]:
    from scipy.optimize import linprog  # imported here: only minimisation needs it

    variables, matrix = _matrix(columns)
    result = linprog(np.ones(len(variables)), A_ub=-matrix, b_ub=-np.ones(len(columns)), bounds=(0, 1))
    return result.fun, dict(zip(variables, result.x))


def _relaxation(columns: list[int], deadline: float) -> tuple[float, int]:
    """The linear relaxation's minimum (a lower bound on the fewest implicants), and a cover found by rounding
    it: implicants at 1 taken (else the largest), the chart reduced and relaxed again. Where that cover is as
    small as the bound allows it is a minimum one, and the integer programme is not needed. Past `deadline`
    (time.monotonic()) it stops with the time-limit error: a dense chart can take a linear programme per round
    for many rounds."""
    bound, cover, configurations = None, 0, len(columns)
    while columns:
        if time.monotonic() > deadline:
            raise _too_long("the fewest prime implicants covering the chart", configurations)
        value, x = _linear_relaxation(columns)
        bound = value if bound is None else bound
        ones = sum(1 << j for j, v in x.items() if v > 1 - 1e-6) or 1 << max(x, key=x.get)
        cover |= ones
        taken, columns = _reduced([col for col in columns if not col & ones])
        cover |= taken
    return bound, cover


def _reduced(columns: list[int]) -> tuple[int, list[int]]:
    """The essential implicants the reductions of a chart take (a bit mask), and the configurations left (for
    the minimum size only: dropping a dominated implicant can drop models)."""
    taken = 0
    while columns:
        rows = _rows(columns)
        order = sorted(rows, key=lambda j: (-rows[j].bit_count(), j))
        allowed = 0
        for j in order:  # an implicant covering all j covers j's first configuration: only those are compared
            first = columns[(rows[j] & -rows[j]).bit_length() - 1]
            if not any(rows[j] & rows[i] == rows[j] for i in _bits(first & allowed)):
                allowed |= 1 << j
        essential = 0
        for col in columns:
            col &= allowed
            if col & (col - 1) == 0:
                essential |= col
        taken |= essential
        left = _undominated({col & allowed for col in columns if not col & essential})
        if len(left) == len(columns) and allowed.bit_count() == len(rows):
            return taken, left
        columns = left
    return taken, []


class _CoverSearch:
    """Every cover of the configurations `columns` (implicant bit masks) by `budget` implicants. A node is the
    set of configurations left (a bit mask over `columns`) and the implicants forbidden there."""

    def __init__(self, columns: list[int], limit: int, priority: dict[int, float], max_nodes: int = MAX_NODES):
        self.columns, self.rows, self.priority, self.max_nodes = columns, _rows(columns), priority, max_nodes
        self.limit, self.found, self.steps, self.cut = limit, [], 0, False

    def run(self, left: int, budget: int, chosen: int, forbidden: int) -> None:
        if not left:
            self.found.append(chosen)
            self.cut |= len(self.found) > self.limit
            return
        self.steps += 1
        if self.steps > self.max_nodes:
            self.cut = True
        if self.cut or budget <= 0:
            return
        available = []
        for i in _bits(left):
            col = self.columns[i] & ~forbidden
            if not col:
                return  # a configuration no implicant left can cover
            available.append(col)
        available.sort(key=int.bit_count)
        if _lower_bound(available) > budget:
            return
        rows = self.rows
        first = self.priority
        options = sorted(_bits(available[0]), key=lambda j: (-first.get(j, 0), -(rows[j] & left).bit_count()))
        for j in options:
            self.run(left & ~rows[j], budget - 1, chosen | 1 << j, forbidden)
            forbidden |= 1 << j


def _greedy_cover(columns: list[int]) -> int:
    """A cover (bit mask of implicants) built by taking, each time, the implicant meeting most sets not yet met."""
    rows = _rows(columns)
    left, cover = (1 << len(columns)) - 1, 0
    while left:
        best = max(rows, key=lambda j: (rows[j] & left).bit_count())
        left &= ~rows[best]
        cover |= 1 << best
    return cover


def _lower_bound(left: list[int]) -> int:
    used, count = 0, 0
    for col in left:  # fewest implicants first (the caller keeps `left` in that order)
        if not col & used:
            used |= col
            count += 1
    return count


def minimise(on: set[int], dont_care: set[int], k: int, deadline: float | None = None) -> tuple[list[list[Term]], bool]:
    """The models (lists of terms) covering `on`, remainders `dont_care` allowed; no model for an empty `on`.
    A CasemetaError if the exact minimum is not found by `deadline` (time.monotonic(); default MINIMISE_SECONDS)."""
    if not on:
        return [], False
    return minimum_covers(on, prime_implicants(on, dont_care, k), deadline=deadline)


def easy_counterfactuals(conservative: list[Term], parsimonious: list[Term], remainders: set[int],
                         expectations: dict[int, int], k: int) -> set[int]:
    """The remainders a conservative model's terms may be widened to under the directional expectations
    ({condition index: expected value 1 or 0}) without leaving the parsimonious model."""
    easy = set()
    for term in conservative:
        for wide in _widened(term, parsimonious, expectations, k):
            easy |= cube(wide, k) & remainders
    return easy


def cube(term: Term, k: int) -> set[int]:
    """Every configuration the term covers: its value with each subset of the free conditions added."""
    mask, value = term
    free = ((1 << k) - 1) & ~mask
    out, sub = set(), free
    while True:
        out.add(value | sub)
        if sub == 0:
            return out
        sub = (sub - 1) & free


def _widened(term: Term, parsimonious: list[Term], expectations: dict[int, int], k: int) -> list[Term]:
    mask, value = term
    out = []
    for p_mask, p_value in parsimonious:
        if mask & p_mask != p_mask or value & p_mask != p_value:
            continue  # this parsimonious term does not contain the conservative one
        drop = 0
        for i, expected in expectations.items():
            b = bit(k, i)
            if mask & b and not p_mask & b and bool(value & b) != bool(expected):
                drop |= b
        out.append((mask & ~drop, value & ~drop))
    return out


def intermediate(on: set[int], conservative: list[list[Term]], parsimonious: list[list[Term]], remainders: set[int],
                 expectations: dict[int, int], k: int, deadline: float | None = None) -> tuple[list[list[Term]], bool]:
    """Intermediate models from every pair of conservative and parsimonious models, each model once."""
    deadline = deadline_after() if deadline is None else deadline
    models: list[list[Term]] = []
    cut = False
    pairs = [(c, p) for c in conservative for p in parsimonious]
    if len(pairs) > MAX_MODELS:  # both solutions very ambiguous: the first pairs only, and the result says so
        pairs, cut = pairs[:MAX_MODELS], True
    solved: dict[frozenset[int], tuple[list[list[Term]], bool]] = {}
    seen: set[tuple[Term, ...]] = set()
    for c_model, p_model in pairs:
        easy = frozenset(easy_counterfactuals(c_model, p_model, remainders, expectations, k))
        if easy not in solved:  # different pairs often give the same easy counterfactuals
            if time.monotonic() > deadline:
                raise _too_long("the intermediate solution", len(on))
            solved[easy] = minimise(on, set(easy), k, deadline)
        found, more = solved[easy]
        cut |= more
        for model in found:
            if tuple(model) not in seen:
                seen.add(tuple(model))
                models.append(model)
    return models, cut


def all_conjunctions(k: int, max_literals: int):
    """Every conjunction of 1..max_literals literals over k conditions, fewest literals first."""
    for size in range(1, max_literals + 1):
        for chosen in combinations(range(k), size):
            mask = sum(bit(k, i) for i in chosen)
            for signs in range(2 ** size):
                yield mask, sum(bit(k, i) for j, i in enumerate(chosen) if not signs >> (size - 1 - j) & 1)
