"""One QCA: memberships in, truth table, solutions and necessity tables out (frames, no files).

Where a table cannot be made (no cases, no configuration passing the cuts) it is empty and
`QcaResult.caveats` say why, so that a study with 0, 1 or 2 cases or one outcome class is reported,
never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from casemeta.errors import CasemetaError
from casemeta.stats.caveats import Caveat, merge
from casemeta.stats.qca.minimize import MAX_MODELS, MAX_NODES, all_conjunctions, deadline_after, intermediate, minimise
from casemeta.stats.qca.sets import Term, bit, covers, necessity, sufficiency, term_membership, term_text, unique_coverages, union_membership
from casemeta.stats.qca.truth_table import Cuts, TruthTable, truth_table

SOLUTION_COLUMNS = ["solution", "model", "term", "inclS", "PRI", "covS", "covU", "cases"]
NECESSITY_COLUMNS = ["condition", "inclN", "RoN", "covN"]
MODEL_ROW = "(model)"


@dataclass(frozen=True)
class QcaSpec:
    outcome: str
    conditions: list[str]
    cuts: Cuts = field(default_factory=Cuts)
    expectations: dict[str, int] = field(default_factory=dict)  # directional expectations: condition -> 1 or 0
    negate: bool = False
    superset: bool = False  # necessity: also search conjunctions of literals
    necessity_incl: float = 0.9  # cuts of the superset search (R QCA superSubset's defaults 0.9 and 0.6)
    necessity_cov: float = 0.6

    @property
    def outcome_label(self) -> str:
        return f"~{self.outcome}" if self.negate else self.outcome


@dataclass
class QcaResult:
    truth_table: pd.DataFrame
    solutions: pd.DataFrame
    necessity: pd.DataFrame
    remainders: int  # configurations without enough cases (limited diversity)
    caveats: tuple  # casemeta.stats.caveats.Caveat records: why something is missing, or cut short
    # for XY plots: each case's membership in every model ((solution, model) -> terms), and in the outcome
    models: dict[tuple[str, int], list[Term]] = field(default_factory=dict)
    members: np.ndarray | None = None
    outcome: np.ndarray | None = None

    def model_membership(self, solution: str, model: int) -> np.ndarray:
        return union_membership(self.members, self.models[(solution, model)])


def memberships(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The columns as memberships in [0, 1]; anything else is refused, naming case and column."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = np.argwhere(~((values >= 0) & (values <= 1)))
    if len(bad):
        problems = [f"case {frame.index[r]}: {columns[c]} = {_shown(frame.iloc[r][columns[c]])}" for r, c in bad[:20]]
        raise CasemetaError(f"{len(bad)} value(s) are not set memberships (a number from 0 to 1, "
                            "or 0/1 for crisp sets)", problems)
    return values


def _shown(value) -> str:
    return "missing" if pd.isna(value) else str(value)


def run_qca(frame: pd.DataFrame, spec: QcaSpec) -> QcaResult:
    """The QCA of `frame` (one row per case, indexed by the case's name)."""
    check_superset(spec)
    members = memberships(frame, spec.conditions)
    y = memberships(frame, [spec.outcome])[:, 0]
    if spec.negate:
        y = 1 - y
    cases = [str(c) for c in frame.index]
    tt = truth_table(members, y, cases, spec.conditions, spec.cuts)
    remainders = len(tt.remainders)
    caveats = () if len(frame) else (Caveat.of("no_cases_yet"),)
    solutions, solution_caveats, models = solve(tt, members, y, spec) if len(frame) else (pd.DataFrame(columns=SOLUTION_COLUMNS), (), {})
    return QcaResult(tt.rows.reset_index(drop=True), solutions, necessity_table(members, y, spec),
                     remainders, merge(caveats, solution_caveats), models, members, y)


def solve(tt: TruthTable, members: np.ndarray, y: np.ndarray, spec: QcaSpec) -> tuple[pd.DataFrame, tuple, dict]:
    on = tt.positive
    if not on:
        return pd.DataFrame(columns=SOLUTION_COLUMNS), (
            Caveat.of("qca_no_solution", [spec.outcome], negate=spec.negate, incl=spec.cuts.incl, pri=spec.cuts.pri,
                      n=spec.cuts.n),), {}
    k = tt.k
    deadline = deadline_after()  # one time limit for all the solutions of this QCA
    conservative, cut_c = minimise(on, set(), k, deadline)
    parsimonious, cut_p = minimise(on, tt.remainders, k, deadline)
    solutions = {"conservative": conservative, "parsimonious": parsimonious}
    caveats = []
    if spec.expectations:
        index = {c: i for i, c in enumerate(spec.conditions)}
        expectations = {index[c]: v for c, v in spec.expectations.items()}
        solutions["intermediate"], cut_i = intermediate(on, conservative, parsimonious, tt.remainders, expectations, k,
                                                        deadline)
    else:
        cut_i = False
        caveats.append(Caveat.of("qca_no_intermediate"))
    if cut_c or cut_p or cut_i:
        caveats.append(Caveat.of("qca_listing_cut", models=MAX_MODELS, nodes=MAX_NODES))
    ordered = {(name, number): r_order(model, k) for name, models in solutions.items()
               for number, model in enumerate(models, start=1)}
    fits = _TermFits(tt, members, y, spec.conditions)
    rows = [row for (name, number), model in ordered.items() for row in fits.model_rows(name, number, model)]
    return pd.DataFrame(rows, columns=SOLUTION_COLUMNS), tuple(caveats), ordered


def r_order(model: list[Term], k: int) -> list[Term]:
    """Terms as R QCA prints them: fewest literals first, then by condition with present before absent before
    not in the term."""
    return sorted(model, key=lambda term: _r_key(term, k))


@lru_cache(maxsize=65536)  # the models of a solution share their terms
def _r_key(term: Term, k: int) -> tuple[int, tuple[int, ...]]:
    mask, value = term
    codes = [0 if not mask & bit(k, i) else (2 if value & bit(k, i) else 1) for i in range(k)]
    return bin(mask).count("1"), tuple(-c for c in codes)


class _TermFits:
    """Each term's membership, fit and covered configurations, computed once: the models of an ambiguous
    solution share most of their terms (up to MAX_MODELS models of dozens of terms each)."""

    def __init__(self, tt: TruthTable, members: np.ndarray, y: np.ndarray, conditions: list[str]):
        self.members, self.y, self.conditions = members, y, conditions
        positive = tt.rows[tt.rows["OUT"] == "1"]
        self.configs = positive.index.to_numpy(dtype=np.int64)
        self.cases = positive["cases"].tolist()
        self.memberships: dict[Term, np.ndarray] = {}
        self.fits: dict[Term, dict] = {}
        self.covered: dict[Term, np.ndarray] = {}
        self.texts: dict[Term, tuple[str, str]] = {}

    def membership(self, term: Term) -> np.ndarray:
        if term not in self.memberships:
            self.memberships[term] = term_membership(self.members, term)
        return self.memberships[term]

    def fit(self, term: Term) -> dict:
        if term not in self.fits:
            self.fits[term] = sufficiency(self.membership(term), self.y)
        return self.fits[term]

    def covers(self, term: Term) -> np.ndarray:
        """Which positive configurations (in truth-table order) the term covers."""
        if term not in self.covered:
            mask, value = term
            self.covered[term] = self.configs & mask == value
        return self.covered[term]

    def cases_of(self, covered: np.ndarray) -> str:
        return "; ".join([self.cases[i] for i in np.flatnonzero(covered)])

    def text(self, term: Term) -> tuple[str, str]:
        """The term as written, and the cases of the configurations it covers."""
        if term not in self.texts:
            self.texts[term] = term_text(term, self.conditions), self.cases_of(self.covers(term))
        return self.texts[term]

    def model_rows(self, name: str, number: int, model: list[Term]) -> list[dict]:
        stack = np.array([self.membership(t) for t in model]).reshape(len(model), -1)
        unique = unique_coverages(stack, self.y)
        rows = [{"solution": name, "model": number, "term": self.text(term)[0], **self.fit(term),
                 "covU": covu, "cases": self.text(term)[1]} for term, covu in zip(model, unique)]
        union = stack.max(axis=0) if len(model) else np.zeros(len(self.y))
        anywhere = np.logical_or.reduce([self.covers(t) for t in model]) if model else np.zeros(len(self.configs), bool)
        rows.append({"solution": name, "model": number, "term": MODEL_ROW, **sufficiency(union, self.y),
                     "covU": float("nan"), "cases": self.cases_of(anywhere)})
        return rows


def model_rows(name: str, number: int, model: list[Term], tt: TruthTable, members: np.ndarray, y: np.ndarray,
               conditions: list[str]) -> list[dict]:
    """The rows of one model: each term's fit, unique coverage and cases, then the model's."""
    return _TermFits(tt, members, y, conditions).model_rows(name, number, model)


def covered_cases(tt: TruthTable, terms: list[Term]) -> str:
    """The cases of the positive configurations the terms cover, one group per configuration: `FI,IE; FR,SE`."""
    rows = tt.rows[tt.rows["OUT"] == "1"]
    return "; ".join(cases for config, cases in rows["cases"].items() if any(covers(t, config) for t in terms))


# The superset search tests every conjunction of literals: 3^k - 1 of them (each condition present, absent or
# left out). 10 conditions give 59,048, about 10 s on a busy core; 11 would give 177,146 and 12 531,440.
SUPERSET_MAX_CONDITIONS = 10
SUPERSET_MAX_CONJUNCTIONS = 3 ** SUPERSET_MAX_CONDITIONS - 1


def check_superset(spec: QcaSpec) -> None:
    """Refuse, before any work, a superset search past SUPERSET_MAX_CONDITIONS conditions."""
    k = len(spec.conditions)
    if spec.superset and 3 ** k - 1 > SUPERSET_MAX_CONJUNCTIONS:
        raise CasemetaError(
            f"superset search of necessity (--superset, or superset: true in the plan) with {k} conditions: "
            f"{3 ** k - 1:,} conjunctions to test (3^{k} - 1), over the limit of {SUPERSET_MAX_CONJUNCTIONS:,} "
            f"(at most {SUPERSET_MAX_CONDITIONS} conditions); test fewer conditions, or leave the superset search "
            "out (necessity of each condition alone)")


def necessity_table(members: np.ndarray, y: np.ndarray, spec: QcaSpec) -> pd.DataFrame:
    """inclN, RoN and covN of each condition and its negation; with `superset`, instead every conjunction of
    literals passing the inclusion and coverage cuts (R QCA superSubset(relation = "necessity"))."""
    k = len(spec.conditions)
    check_superset(spec)
    if spec.superset:
        candidates = ((t, necessity(term_membership(members, t), y)) for t in all_conjunctions(k, k))
        rows = [(t, fit) for t, fit in candidates
                if fit["inclN"] >= spec.necessity_incl - 1e-9 and fit["covN"] >= spec.necessity_cov - 1e-9]
    else:
        rows = [(t, necessity(term_membership(members, t), y))
                for i in range(k) for t in ((bit(k, i), bit(k, i)), (bit(k, i), 0))]
    return pd.DataFrame([{"condition": term_text(t, spec.conditions), **fit} for t, fit in rows], columns=NECESSITY_COLUMNS)
