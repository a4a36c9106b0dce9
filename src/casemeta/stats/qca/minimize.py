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

from itertools import combinations

from casemeta.stats.qca.sets import Term, bit, covers

# more models than this (possible only in large, random-like truth tables) are cut off, and the result says so
MAX_MODELS = 1000


def prime_implicants(on: set[int], dont_care: set[int], k: int) -> list[Term]:
    """The prime implicants of on ∪ dont_care that cover at least one configuration of `on`:
    pairs of implicants differing in one present/absent literal merge, level by level."""
    level = {((1 << k) - 1, m) for m in on | dont_care}
    primes: set[Term] = set()
    while level:
        merged, used = set(), set()
        for mask, value in level:
            rest = mask & ~value  # the literals of the term that are absent: try making each present
            while rest:
                b = rest & -rest
                rest ^= b
                partner = (mask, value | b)
                if partner in level:
                    merged.add((mask & ~b, value))
                    used.update(((mask, value), partner))
        primes |= level - used
        level = merged
    return sorted((p for p in primes if any(covers(p, m) for m in on)), key=lambda t: (-bin(t[0]).count("1"), t))


def minimum_covers(on: set[int], implicants: list[Term], limit: int = MAX_MODELS) -> tuple[list[list[Term]], bool]:
    """Every cover of `on` by the fewest implicants (each as a list in the order of `implicants`), and
    whether `limit` cut the list short. Essential implicants first; the rest by iterative deepening."""
    covered_by = {m: frozenset(j for j, t in enumerate(implicants) if covers(t, m)) for m in on}
    essential = {next(iter(js)) for js in covered_by.values() if len(js) == 1}
    left = {m for m, js in covered_by.items() if not js & essential}
    found: set[frozenset[int]] = set()
    size = 0
    while left and not found:
        size += 1
        _search(frozenset(left), covered_by, frozenset(), size, found, limit)
    covers_ = sorted((sorted(essential | chosen) for chosen in found), key=lambda c: c) or [sorted(essential)]
    return [[implicants[j] for j in c] for c in covers_], len(found) >= limit


def _search(left: frozenset[int], covered_by: dict, chosen: frozenset[int], budget: int, found: set, limit: int) -> None:
    if not left:
        found.add(chosen)
        return
    if budget == 0 or len(found) >= limit:
        return
    hardest = min(left, key=lambda m: (len(covered_by[m]), m))
    for j in sorted(covered_by[hardest]):
        _search(frozenset(m for m in left if j not in covered_by[m]), covered_by, chosen | {j}, budget - 1, found, limit)


def minimise(on: set[int], dont_care: set[int], k: int) -> tuple[list[list[Term]], bool]:
    """The models (lists of terms) covering `on`, remainders `dont_care` allowed; no model for an empty `on`."""
    if not on:
        return [], False
    return minimum_covers(on, prime_implicants(on, dont_care, k))


def easy_counterfactuals(conservative: list[Term], parsimonious: list[Term], remainders: set[int],
                         expectations: dict[int, int], k: int) -> set[int]:
    """The remainders a conservative model's terms may be widened to under the directional expectations
    ({condition index: expected value 1 or 0}) without leaving the parsimonious model."""
    easy = set()
    for term in conservative:
        for wide in _widened(term, parsimonious, expectations, k):
            easy |= {r for r in remainders if covers(wide, r)}
    return easy


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
                 expectations: dict[int, int], k: int) -> tuple[list[list[Term]], bool]:
    """Intermediate models from every pair of conservative and parsimonious models, each model once."""
    models: list[list[Term]] = []
    cut = False
    for c_model in conservative:
        for p_model in parsimonious:
            easy = easy_counterfactuals(c_model, p_model, remainders, expectations, k)
            found, more = minimise(on, easy, k)
            cut |= more
            models += [m for m in found if m not in models]
    return models, cut


def all_conjunctions(k: int, max_literals: int):
    """Every conjunction of 1..max_literals literals over k conditions, fewest literals first."""
    for size in range(1, max_literals + 1):
        for chosen in combinations(range(k), size):
            mask = sum(bit(k, i) for i in chosen)
            for signs in range(2 ** size):
                yield mask, sum(bit(k, i) for j, i in enumerate(chosen) if not signs >> (size - 1 - j) & 1)
