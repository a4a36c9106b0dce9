"""Pooled odds ratios: every number of R metafor's BCG output, and R's exact conditional test."""

import itertools
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from casemeta.stats.pooling import COLUMNS, METHODS, pool, study_odds_ratio
from conftest import REFERENCE

pytestmark = pytest.mark.filterwarnings("error")  # a Python warning anywhere fails the test


def bcg_tables() -> pd.DataFrame:
    d = pd.read_csv(REFERENCE / "meta_bcg.csv")
    return pd.DataFrame({"stratum": d["trial"], "a": d["tpos"], "b": d["tneg"], "c": d["cpos"], "d": d["cneg"]})


def metafor_sections() -> dict[str, str]:
    text = (REFERENCE / "meta_bcg_metafor.txt").read_text(encoding="utf-8")
    parts = re.split(r"^== (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def number(pattern: str, text: str) -> float:
    return float(re.search(pattern, text).group(1))


def printed(pattern: str, text: str, scale: float = 1.0):
    """The number as metafor prints it, matched to its last printed digit (half a unit of it:
    at most 5e-5 for the 4-decimal numbers; H² and I² in percent have 2 decimals)."""
    digits = re.search(pattern, text).group(1)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return pytest.approx(float(digits) / scale, abs=0.5 * 10**-decimals / scale + 1e-12)


def model_line(text: str) -> list[str]:
    """estimate, se, zval, pval, ci.lb, ci.ub of the first 'Model Results' line, as printed."""
    return re.search(r"estimate\s+se\s+zval.*\n\s*(.+)", text).group(1).split()[:6]


def same_as_printed(value: float, shown: str) -> bool:
    """`value` rounds to what metafor shows: "<.0001" means below 1e-4, otherwise to its last digit."""
    shown = shown.replace(" ", "")
    if shown.startswith("<"):
        return value < float(shown[1:])
    return value == printed(r"(.+)", shown)


def heterogeneity(text: str) -> dict:
    return {"i2": printed(r"I\^2 \(total heterogeneity / total variability\):\s+([\d.]+)%", text, 100),
            "h2": printed(r"H\^2 \(total variability / sampling variability\):\s+([\d.]+)", text),
            "q": printed(r"Q\(df = 12\) = ([\d.]+)", text)}


@pytest.fixture(scope="module")
def bcg():
    return pool(bcg_tables()).set_index("method")


@pytest.mark.parametrize("section, method", [("rma.mh OR", "mantel_haenszel"), ("rma.peto", "peto"),
                                             ("FE (inverse variance)", "fixed"), ("rma DL", "random_dl"),
                                             ("rma REML", "random_reml")])
def test_bcg_reproduces_metafor(bcg, section, method):
    text = metafor_sections()[section]
    row = bcg.loc[method]
    shown = model_line(text)
    ours = (row.log_or, row.std_error, row.statistic, row.p_value, row.ci_low, row.ci_high)
    assert all(same_as_printed(value, s) for value, s in zip(ours, shown)), (ours, shown)
    expected = heterogeneity(text)
    assert (row.i2, row.h2, row.q) == (expected["i2"], expected["h2"], expected["q"])
    assert same_as_printed(row.q_p_value, re.search(r"p-val (<? ?[\d.]+)", text).group(1))
    if "tau^2" in text:
        assert row.tau2 == pytest.approx(number(r"tau\^2 \(estimated amount of total heterogeneity\):\s+([\d.]+)", text), abs=1e-4)
        assert row.tau2_se == pytest.approx(number(r"\(SE = ([\d.]+)\)", text), abs=1e-4)
        assert np.sqrt(row.tau2) == pytest.approx(number(r"tau \(square root of estimated tau\^2 value\):\s+([\d.]+)", text), abs=1e-4)
    if "OR scale" in text:
        ors = [float(x) for x in re.search(r"OR scale\):\s*\n\s*estimate\s+ci.lb\s+ci.ub\s*\n\s*(.+)", text).group(1).split()]
        assert (row.odds_ratio, row.or_ci_low, row.or_ci_high) == pytest.approx(ors, abs=1e-4)


def test_bcg_mh_tests(bcg):
    mh = metafor_sections()["rma.mh OR"]
    cmh, tarone = bcg.loc["cmh_test"], bcg.loc["tarone_test"]
    assert (cmh.statistic, cmh.df) == pytest.approx((number(r"CMH = ([\d.]+)", mh), 1), abs=1e-4)
    assert (tarone.statistic, tarone.df) == pytest.approx((number(r"X\^2 = ([\d.]+)", mh), 12), abs=1e-4)
    assert cmh.p_value < 1e-4 and tarone.p_value < 1e-4
    assert list(pool(bcg_tables()).columns[:len(COLUMNS)]) == list(COLUMNS)
    assert list(pool(bcg_tables())["method"]) == list(METHODS)


# Agresti (1990), penicillin and rabbits: the example of R's ?mantelhaen.test. Rows of each stratum:
# injection immediately (condition 1) or 1.5 h later; columns cured (outcome 1) or died.
# R's array(c(0, 0, 6, 5), dim = c(2, 2)) is column-major: a = x[1,1], c = x[2,1], b = x[1,2], d = x[2,2].
RABBITS = pd.DataFrame({"stratum": ["1/8", "1/4", "1/2", "1", "4"],
                        "a": [0, 3, 6, 5, 2], "b": [6, 3, 0, 1, 0], "c": [0, 0, 2, 6, 5], "d": [5, 6, 4, 0, 0]})


def enumerated_distribution(tables: pd.DataFrame) -> dict[int, float]:
    """P(S = s) under odds ratio 1, S = Σ a, given every stratum's margins, by listing every
    combination of the strata's possible `a` cells (itertools.product) and multiplying their
    hypergeometric probabilities C(col1, a) C(n - col1, row1 - a) / C(n, row1) written out with math.comb."""
    ranges, probs = [], []
    for a, b, c, d in tables[["a", "b", "c", "d"]].itertuples(index=False):
        row1, col1, n = a + b, a + c, a + b + c + d
        values = range(max(0, row1 - (b + d)), min(row1, col1) + 1)
        ranges.append(values)
        probs.append({x: math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1) for x in values})
    dist: dict[int, float] = {}
    for combo in itertools.product(*ranges):
        dist[sum(combo)] = dist.get(sum(combo), 0.0) + math.prod(p[x] for p, x in zip(probs, combo))
    return dist


def conditional_mle(dist: dict[int, float], s: int) -> float:
    """ψ with E_ψ(S) = s, where P_ψ(S = t) ∝ P_1(S = t) ψ^t, by bisection on log ψ; the weights
    P_1(t) ψ^(t − s) are summed in logs, so supports of thousands (tests/test_pooling_bounded.py) do not overflow."""
    def mean(log_psi):
        logs = {t: math.log(p) + log_psi * (t - s) for t, p in dist.items()}
        top = max(logs.values())
        w = {t: math.exp(x - top) for t, x in logs.items()}
        return sum(t * x for t, x in w.items()) / sum(w.values())
    low, high = -20.0, 20.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if mean(mid) < s else (low, mid)
    return math.exp(low)


def test_exact_conditional_with_zero_cells_agrees_with_r_mantelhaen_exact():
    # Every stratum has a zero cell; the first (none cured) and the last (all cured) have a zero
    # column total, so one possible table each: they fix their `a` and add nothing else.
    # S = 0 + 3 + 6 + 5 + 2 = 16.
    dist = enumerated_distribution(RABBITS)
    s = 16
    # R's two-sided p-value: the probability of every S no more probable than the observed S
    expected_p = sum(p for p in dist.values() if p <= dist[s] * (1 + 1e-7))
    exact = pool(RABBITS).set_index("method").loc["exact_conditional"]
    assert exact.statistic == s
    assert exact.p_value == pytest.approx(expected_p, rel=1e-9)
    assert exact.p_value == pytest.approx(0.040, abs=5e-4)  # ?mantelhaen.test: "## => p - 0.040"
    assert exact.odds_ratio == pytest.approx(conditional_mle(dist, s), rel=1e-6)
    # the interval: P_ψ(S ≥ 16) = 0.025 at the lower limit, P_ψ(S ≤ 16) = 0.025 at the upper
    for psi, tail in ((exact.or_ci_low, lambda t: t >= s), (exact.or_ci_high, lambda t: t <= s)):
        w = {t: p * psi**t for t, p in dist.items()}
        assert sum(x for t, x in w.items() if tail(t)) / sum(w.values()) == pytest.approx(0.025, rel=1e-6)
    assert "2 stratum(s) left out" in exact.note and "1/8: no case with the outcome; 4: every case has the outcome" in exact.note


def test_exact_conditional_of_one_table_is_fishers_conditional_odds_ratio():
    # one table: S = a, with the hypergeometric distribution of a given the margins (enumerated above,
    # math.comb); R's fisher.test gives the same conditional MLE and interval
    tables = pd.DataFrame({"stratum": ["s"], "a": [7], "b": [2], "c": [3], "d": [8]})
    row = pool(tables).set_index("method").loc["exact_conditional"]
    dist = enumerated_distribution(tables)
    assert row.odds_ratio == pytest.approx(conditional_mle(dist, 7), rel=1e-7)
    # the limits: P_ψ(S ≥ 7) = 0.025 at the lower one, P_ψ(S ≤ 7) = 0.025 at the upper one
    for psi, tail in ((row.or_ci_low, lambda t: t >= 7), (row.or_ci_high, lambda t: t <= 7)):
        w = {t: p * psi**t for t, p in dist.items()}
        assert sum(x for t, x in w.items() if tail(t)) / sum(w.values()) == pytest.approx(0.025, rel=1e-6)


def test_one_stratum_says_why_heterogeneity_and_random_effects_are_missing():
    one = pool(pd.DataFrame({"stratum": ["s"], "a": [7], "b": [2], "c": [3], "d": [8]})).set_index("method")
    # the fixed estimate of one table is its own log odds ratio: log(7·8 / (2·3))
    assert one.loc["fixed", "log_or"] == pytest.approx(math.log(56 / 6))
    assert one.loc["mantel_haenszel", "odds_ratio"] == pytest.approx(56 / 6)
    for method in ("random_dl", "random_reml"):
        assert pd.isna(one.loc[method, "log_or"]) and "at least 2 informative strata" in one.loc[method, "note"]
    assert "at least 2 informative strata" in one.loc["tarone_test", "note"]
    assert "Q, I² and H² not computed" in one.loc["mantel_haenszel", "note"] and pd.isna(one.loc["fixed", "q"])


def test_zero_cell_stratum_is_kept_by_mantel_haenszel_and_corrected_for_inverse_variance():
    tables = pd.DataFrame({"stratum": ["x", "y"], "a": [3, 4], "b": [0, 2], "c": [2, 1], "d": [5, 6]})
    out = pool(tables).set_index("method")
    # MH by hand: Σ a·d/n / Σ b·c/n = (15/10 + 24/13) / (0/10 + 2/13)
    assert out.loc["mantel_haenszel", "odds_ratio"] == pytest.approx((15 / 10 + 24 / 13) / (2 / 13))
    # inverse variance: stratum x becomes 3.5, 0.5, 2.5, 5.5
    y = np.array([math.log(3.5 * 5.5 / (0.5 * 2.5)), math.log(24 / 2)])
    v = np.array([1 / 3.5 + 1 / 0.5 + 1 / 2.5 + 1 / 5.5, 1 / 4 + 1 / 2 + 1 + 1 / 6])
    assert out.loc["fixed", "log_or"] == pytest.approx((y / v).sum() / (1 / v).sum())
    assert "1/2 added to every cell of 1 table(s) with a zero cell (x)" in out.loc["fixed", "note"]
    assert "no continuity correction" in out.loc["mantel_haenszel", "note"]


def test_all_strata_degenerate_gives_reasons_not_numbers():
    tables = pd.DataFrame({"stratum": ["p", "q"], "a": [0, 2], "b": [0, 3], "c": [4, 0], "d": [1, 0]})
    out = pool(tables)
    assert out[["log_or", "statistic", "p_value"]].isna().all().all()
    assert out["note"].str.contains("not computed: no stratum has cases both with and without").all()
    assert out["note"].str.contains("p: no case with the condition; q: every case has the condition").all()


def test_every_table_one_sided_gives_an_infinite_mh_and_no_tarone():
    tables = pd.DataFrame({"stratum": ["p", "q"], "a": [3, 2], "b": [0, 3], "c": [4, 0], "d": [1, 4]})
    out = pool(tables).set_index("method")
    assert out.loc["mantel_haenszel", "odds_ratio"] == np.inf
    assert "b·c = 0 in every stratum" in out.loc["mantel_haenszel", "note"]
    assert "0 or infinite" in out.loc["tarone_test", "note"]
    assert out.loc["exact_conditional", "or_ci_high"] == np.inf and "infinite" in out.loc["exact_conditional", "note"]


def test_bad_count_is_refused_with_its_stratum_and_column():
    with pytest.raises(ValueError, match=r"stratum 'q', column c: -1 is not a count"):
        pool(pd.DataFrame({"stratum": ["p", "q"], "a": [1, 1], "b": [1, 1], "c": [1, -1], "d": [1, 1]}))


def test_study_odds_ratio_uses_exact_interval_only_where_a_cell_is_zero():
    plain = study_odds_ratio(4, 2, 1, 6)
    assert plain["odds_ratio"] == pytest.approx(12.0) and plain["interval"].startswith("Woolf")
    zero = study_odds_ratio(4, 0, 1, 6)
    assert zero["odds_ratio"] == np.inf and zero["interval"] == "exact conditional"
    # exact conditional lower limit of [[4, 0], [1, 6]]: a = 4 is the largest a the margins allow, so the
    # limit is the ψ with P_ψ(a ≥ 4) = P_ψ(a = 4) = 0.025 (the enumerated hypergeometric, math.comb)
    dist = enumerated_distribution(pd.DataFrame({"a": [4], "b": [0], "c": [1], "d": [6]}))
    assert max(dist) == 4
    w = {t: p * zero["or_ci_low"]**t for t, p in dist.items()}
    assert w[4] / sum(w.values()) == pytest.approx(0.025, rel=1e-6)
    assert "not computed: no case with the outcome" in study_odds_ratio(0, 3, 0, 2)["note"]


def test_no_warning_escapes_from_degenerate_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pool(pd.DataFrame({"stratum": ["p"], "a": [0], "b": [0], "c": [0], "d": [0]}))
        pool(RABBITS)
    # a stratum with no cases beside informative ones changes nothing but the note
    empty = pd.DataFrame({"stratum": ["z"], "a": [0], "b": [0], "c": [0], "d": [0]})
    with_empty = pool(pd.concat([empty, RABBITS], ignore_index=True)).set_index("method")
    alone = pool(RABBITS).set_index("method")
    assert with_empty.loc["exact_conditional", "p_value"] == pytest.approx(alone.loc["exact_conditional", "p_value"])
    assert with_empty.loc["mantel_haenszel", "odds_ratio"] == pytest.approx(alone.loc["mantel_haenszel", "odds_ratio"])
    assert "z: no cases" in with_empty.loc["exact_conditional", "note"]


def test_dl_tau2_is_truncated_at_zero_when_q_is_below_its_df():
    # three identical tables: Q = 0 < df = 2, so DerSimonian–Laird's tau² = max(0, (Q − df)/c) = 0 and
    # the random-effects mean is the fixed one (statsmodels' combine_effects gives a negative tau²)
    same = pd.DataFrame({"stratum": ["p", "q", "r"], "a": [4, 4, 4], "b": [2, 2, 2], "c": [1, 1, 1], "d": [6, 6, 6]})
    out = pool(same).set_index("method")
    assert out.loc["random_dl", "tau2"] == 0 and out.loc["random_reml", "tau2"] == 0
    assert out.loc["random_dl", "log_or"] == pytest.approx(math.log(12))
    assert out.loc["random_dl", "std_error"] == pytest.approx(out.loc["fixed", "std_error"])
    assert out.loc["random_dl", "i2"] == 0 and out.loc["fixed", "i2"] == 0


def test_cmh_continuity_correction_only_when_it_does_not_inflate_the_statistic():
    # R's mantelhaen.test subtracts 1/2 from |Σ(a − E a)| only when that is at least 1/2.
    # One table [[1, 1], [1, 1]]: E a = 2·2/4 = 1 = a, so the statistic is 0 and p = 1
    # (statsmodels' correction alone would give (0 − 1/2)² / var > 0).
    out = pool(pd.DataFrame({"stratum": ["s"], "a": [1], "b": [1], "c": [1], "d": [1]})).set_index("method")
    assert out.loc["cmh_test", "statistic"] == 0 and out.loc["cmh_test", "p_value"] == pytest.approx(1.0)
