"""Properties every QCA solution must have, on random truth tables (Hypothesis).

A truth table is drawn as an output value per configuration: positive (1), negative (0) or remainder.
"""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from casemeta.stats.qca.minimize import intermediate, minimise, prime_implicants
from casemeta.stats.qca.sets import covers


@st.composite
def truth_tables(draw, max_conditions: int = 6):
    k = draw(st.integers(1, max_conditions))
    outputs = draw(st.lists(st.sampled_from("10?"), min_size=2 ** k, max_size=2 ** k))
    sets = {o: {m for m, out in enumerate(outputs) if out == o} for o in "10?"}
    return k, sets["1"], sets["0"], sets["?"]


def covered(model, configurations):
    return {m for m in configurations if any(covers(t, m) for t in model)}


@settings(max_examples=200, deadline=None)
@given(truth_tables())
def test_conservative_covers_every_positive_and_nothing_else(table):
    k, on, off, rest = table
    models, _ = minimise(on, set(), k)
    assert bool(models) == bool(on)
    for model in models:
        assert covered(model, on) == on
        assert not covered(model, off) and not covered(model, rest)


@settings(max_examples=200, deadline=None)
@given(truth_tables())
def test_parsimonious_covers_every_positive_and_never_a_negative(table):
    k, on, off, rest = table
    for model in minimise(on, rest, k)[0]:
        assert covered(model, on) == on
        assert not covered(model, off)


@settings(max_examples=40, deadline=None)
@given(truth_tables(max_conditions=5), st.data())
def test_intermediate_lies_between_conservative_and_parsimonious(table, data):
    k, on, off, rest = table
    expectations = data.draw(st.dictionaries(st.integers(0, k - 1), st.integers(0, 1)))
    conservative, parsimonious = minimise(on, set(), k)[0], minimise(on, rest, k)[0]
    for model in intermediate(on, conservative, parsimonious, rest, expectations, k)[0]:
        assert covered(model, on) == on
        assert not covered(model, off)
        assert any(covered(model, rest) <= covered(p, rest) for p in parsimonious)


@settings(max_examples=100, deadline=None)
@given(truth_tables(max_conditions=4))
def test_models_use_the_fewest_prime_implicants_and_are_all_listed(table):
    """Brute force over every subset of prime implicants: the minimum covers are exactly the models."""
    k, on, off, rest = table
    primes = prime_implicants(on, rest, k)
    models, _ = minimise(on, rest, k)
    for size in range(len(primes) + 1):
        best = [set(c) for c in combinations(primes, size) if covered(c, on) == on]
        if best and on:
            assert sorted(map(sorted, best)) == sorted(map(sorted, models))
            break


@settings(max_examples=100, deadline=None)
@given(truth_tables(max_conditions=5))
def test_prime_implicants_are_implicants_and_cannot_grow(table):
    k, on, off, rest = table
    allowed = on | rest
    for mask, value in prime_implicants(on, rest, k):
        assert all(m in allowed for m in range(2 ** k) if covers((mask, value), m))
        for i in range(k):  # dropping any literal would cover a negative configuration
            b = 1 << i
            if mask & b:
                wider = (mask & ~b, value & ~b)
                assert any(m not in allowed for m in range(2 ** k) if covers(wider, m))
