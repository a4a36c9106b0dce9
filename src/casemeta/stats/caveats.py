"""Caveats as data: what a statistic could not compute, or how it computed it.

A caveat is a record (`Caveat`): a `code` saying what happened, the `variables` (or model terms)
it concerns, its named `values` (counts, a seed, a reason), its `scope` (the whole row or model, or
one term) and, where it leaves a statistic blank, which one (`blank`). Its words live in one place,
`MESSAGES` and `BLANKS` below, and are rendered by `Caveat.message(label)`: with the data's names in
the results CSVs (their `note` column), with the codebook's labels in publication tables. Results
files carry the records themselves in a `caveats` column (JSON); nothing reads the words back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable

import numpy as np
import pandas as pd

Label = Callable[[str], str]


def _names(variables: list[str]) -> str:
    return ", ".join(variables)


def _range_name(variables: list[str], values: dict) -> str:
    """`the inclusion cut` or `the crossover of size` (a range of QCA robustness)."""
    if values["parameter"] == "calibrate":
        return f"the {values['anchor'].replace('_', ' ')} anchor of {_names(variables)}"
    return {"incl_cut": "the inclusion cut", "n_cut": "the frequency cut"}[values["parameter"]]


def _separated(variables: list[str], values: dict) -> str:
    terms = ", ".join(f"{sign}{v}" for sign, v in zip(values.get("signs", ()), variables))
    return f"{values['kind']} ({terms} infinite under ML)"


# code -> the caveat's words, from its rendered variables and its values. The one place a caveat is worded.
MESSAGES: dict[str, Callable[[list[str], dict], str]] = {
    # cases and data
    "missing": lambda v, x: f"{x['left_out']} of {x['total']} case(s) left out: {_names(v)} missing",
    "no_cases": lambda v, x: "no cases",
    "no_cases_yet": lambda v, x: "no cases yet",
    "no_complete_case": lambda v, x: "no case has every variable of the model",
    "constant": lambda v, x: f"{x['role']} {_names(v)} is {x['value']} in every case",
    "same_value": lambda v, x: f"every case has the same value of {_names(v)}",
    "same_outcome": lambda v, x: f"every case has the same outcome ({x['value']})",
    "too_few_coefficients": lambda v, x: f"only {x['n']} case(s) for at least {x['k']} coefficients",
    "too_few_to_leave_out": lambda v, x: f"{x['cases']}; leaving one out needs at least {x['minimum']}",
    "error": lambda v, x: x["reason"],
    "warning": lambda v, x: f"warning {x['category']}: {x['text']}",
    # cross-tab tests
    "or_not_2x2": lambda v, x: f"odds ratio defined for 2×2 tables only (this one is {x['rows']}×{x['columns']})",
    "or_infinite": lambda v, x: "odds ratio infinite: a zero cell",
    "or_zero": lambda v, x: "odds ratio 0: a zero cell",
    "monte_carlo": lambda v, x: f"p-value by Monte Carlo ({x['draws']} draws, seed {x['seed']}): too many tables to enumerate",
    # logistic models
    "separation_firth": lambda v, x: f"separation found ({_separated(v, x)}): Firth's penalized likelihood used instead of ML",
    "separation_ml": lambda v, x: (f"WARNING: {_separated(v, x)}; ML estimates of the separated terms are not finite "
                                   "and must not be reported"),
    "ml_singular": lambda v, x: "the ML information matrix cannot be inverted",
    "firth_singular": lambda v, x: "the Fisher information is singular at the estimate",
    "firth_own_fit": lambda v, x: "Firth estimate by casemeta's own fit (firthmodels' fit did not converge)",
    "flic_intercept": lambda v, x: ("FLIC intercept: re-estimated by ML with the Firth slopes held fixed; Wald interval "
                                    "and p-value from the full model's Fisher information at the FLIC fit (as logistf's interval)"),
    "correction_not_applied": lambda v, x: f"no separation, so ML was used: correction {x['correction']} (for Firth fits) not applied",
    "joint_test": lambda v, x: (f"joint {x['kind']} test of {x['df']} coefficient(s) = 0: "
                                f"chi-square {x['chisq']:.4f} on {x['df']} df"),
    # case influence: a refit without one case
    "influence_method": lambda v, x: f"without this case: {x['method']} (with every case: {x['method_all']})",
    # out-of-sample checks
    "one_class_folds": lambda v, x: (f"in {x['folds']} fold(s) the other cases all had one outcome: "
                                     "those folds predict that outcome with probability 1"),
    "not_converged_folds": lambda v, x: f"in {x['folds']} fold(s) the fit stopped before converging (Newton-Cholesky, 1000 iterations)",
    "loo_auc_tiny_sample": lambda v, x: (f"AUC from only {x['fewer']} case(s) of the rarer value of {_names(v)} (fewer than "
                                         f"{x['minimum']}): it can swing widely"
                                         + ("; leave-one-out also pulls it down on a small sample (each left-out case "
                                            "shifts the base rate against itself: a model with no information scores "
                                            "near 0, not 0.5)" if x.get("loo") else "")
                                         + "; read it as a rough indication only"),
    # QCA
    "qca_no_solution": lambda v, x: (f"no solution: no configuration has {'~' if x['negate'] else ''}{v[0]} with inclusion "
                                     f"≥ {x['incl']:g}, PRI ≥ {x['pri']:g} and at least {x['n']} case(s)"),
    "qca_no_intermediate": lambda v, x: "no intermediate solution: no directional expectations given",
    "qca_listing_cut": lambda v, x: (f"model listing cut short (over {x['models']} models, or over {x['nodes']} search steps): "
                                     "every model listed uses the fewest terms, but others exist"),
    # QCA robustness (stats.qca.robustness)
    "qca_robustness_no_solution": lambda v, x: (f"no robustness test: the {x['solution']} solution for {v[0]} is empty "
                                                "(no configuration passes the cuts)"),
    "qca_range_no_qca": lambda v, x: (f"{x['side']} bound of {_range_name(v, x)} stops at the step before "
                                      f"{x['value']:g}: there a case's membership is exactly 0.5, which puts it in no "
                                      "truth-table row"),
    "qca_test_set_no_solution": lambda v, x: (f"test set {x['test_set']}: no {x['solution']} solution for {v[0]}; "
                                              "its membership is 0 in every case"),
    "qca_rcr_undefined": lambda v, x: (" and ".join(w for w, on in (("RCR_typ", x["typ"]), ("RCR_dev", x["dev"])) if on)
                                       + " undefined: no robust, shaky or possible case of that kind (typical: "
                                       "with the outcome; deviant: without)"),
    # agreement between coders
    "no_two_codes": lambda v, x: "no case has two codes: agreement not computed",
    "one_code_value": lambda v, x: "every code is the same value: kappa, AC1 and alpha are undefined",
    "kappa_two_coders": lambda v, x: "kappa is for two coders",
    "one_coder_only": lambda v, x: f"{len(x['cases'])} case(s) coded by one coder only, not scored: {', '.join(x['cases'])}",
    # pooling across strata or studies
    "strata_left_out": lambda v, x: (f"{len(x['strata'])} stratum(s) left out, no information on the odds ratio ("
                                     + "; ".join(f"{s}: {r}" for s, r in zip(x["strata"], x["reasons"])) + ")"),
    "or_all_strata": lambda v, x: f"odds ratio {x['which']}: {x['product']} = 0 in every stratum",
    "homogeneity_too_few": lambda v, x: "homogeneity needs at least 2 informative strata",
    "mh_degenerate": lambda v, x: "the Mantel–Haenszel odds ratio is 0 or infinite",
    "too_few_strata": lambda v, x: x["reason"],
    "exact_normal_limit": lambda v, x: ("counts too large for the exact conditional distribution: its normal limit "
                                        "(Cornfield's mean and variance, continuity-corrected tails) is used"),
    "exact_at_end": lambda v, x: f"estimate {x['which']}: S = {x['s']} is at the end of its range {x['low']}..{x['high']}",
    "continuity": lambda v, x: f"1/2 added to every cell of {len(x['strata'])} table(s) with a zero cell ({', '.join(x['strata'])})",
    "continuity_q": lambda v, x: (f"Q from log odds ratios with 1/2 added to every cell of {len(x['strata'])} table(s) "
                                  f"with a zero cell ({', '.join(x['strata'])})"),
    "margin": lambda v, x: x["reason"],
    "no_continuity": lambda v, x: "no continuity correction (zero cells kept)",
    "one_stratum_heterogeneity": lambda v, x: "Q, I² and H² not computed: 1 informative stratum",
    "study_zero_cell": lambda v, x: "a zero cell: conditional maximum-likelihood odds ratio with its exact interval",
    "concept_not_coded": lambda v, x: f"not in this pair: the codebook codes no {' and no '.join(x['concepts'])}",
    "not_pooled": lambda v, x: f"not pooled: fewer than 2 studies hold cases for this pair ({x['held']})",
}

# blank -> which statistic a caveat leaves blank; its message then reads "<this>: <reason>"
BLANKS: dict[str, str] = {
    "model": "not estimable",
    "loo": "LOO AUC and Brier score not computed",
    "test": "p-value, odds ratio and Cramér's V not computed",
    "se": "standard error, interval and p-value not computed",
    "se_wald": "standard error and Wald p-value not computed",
    "lr_p": "LR p-value not computed",
    "plr_p": "penalized LR p-value not computed",
    "lower": "lower profile limit not computed",
    "upper": "upper profile limit not computed",
    "joint_test": "joint test not computed",
    "pooled": "not computed",
    "odds_ratio": "odds ratio not computed",
}

SCOPES = ("row", "model", "term")


@dataclass(frozen=True)
class Caveat:
    """One caveat of a result row; see the module's docstring."""

    code: str
    variables: tuple[str, ...] = ()
    values: tuple[tuple[str, object], ...] = ()
    scope: str = "row"
    blank: str = ""

    def __post_init__(self):
        if self.code not in MESSAGES:
            raise ValueError(f"unknown caveat code {self.code!r}")
        if self.blank and self.blank not in BLANKS:
            raise ValueError(f"unknown blank statistic {self.blank!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}")

    @classmethod
    def of(cls, code: str, variables: Iterable[str] = (), scope: str = "row", blank: str = "", **values) -> "Caveat":
        return cls(code, tuple(map(str, variables)), tuple(sorted((k, _plain(v)) for k, v in values.items())), scope, blank)

    @property
    def value(self) -> dict:
        return dict(self.values)

    def message(self, label: Label = str) -> str:
        """The caveat in words, each variable rendered by `label` (names by default)."""
        text = MESSAGES[self.code]([label(v) for v in self.variables], self.value)
        return f"{BLANKS[self.blank]}: {text}" if self.blank else text

    def with_(self, **changes) -> "Caveat":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        out = {"code": self.code}
        if self.variables:
            out["variables"] = list(self.variables)
        if self.values:
            out["values"] = dict(self.values)
        if self.scope != "row":
            out["scope"] = self.scope
        if self.blank:
            out["blank"] = self.blank
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Caveat":
        return cls.of(data["code"], data.get("variables", ()), data.get("scope", "row"), data.get("blank", ""),
                      **data.get("values", {}))


def _plain(value):
    """A value as JSON holds it (numpy numbers as Python ones, sequences as tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "item"):
        return value.item()
    return value


Caveats = tuple[Caveat, ...]


def merge(*groups) -> Caveats:
    """Caveats of one row, in order, each once; None and empty groups skipped."""
    out: list[Caveat] = []
    for group in groups:
        if group is None:
            continue
        for caveat in ([group] if isinstance(group, Caveat) else group):
            if caveat is not None and caveat not in out:
                out.append(caveat)
    return tuple(out)


def render(caveats: Iterable[Caveat], label: Label = str) -> str:
    """A row's caveats in words, joined by "; " (the `note` column of a results CSV)."""
    return "; ".join(c.message(label) for c in caveats)


def row_fields(caveats: Iterable[Caveat]) -> dict:
    """A results row's `note` (the words, data names) and `caveats` (the records): what attach() sets on a frame."""
    caveats = tuple(caveats)
    return {"note": render(caveats), "caveats": caveats}


def column(frame: pd.DataFrame) -> list[Caveats]:
    """Each row's caveats (a results frame without a `caveats` column has none)."""
    if "caveats" not in frame.columns:
        return [()] * len(frame)
    return [tuple(cell) if isinstance(cell, (tuple, list)) else () for cell in frame["caveats"]]


def attach(frame: pd.DataFrame, caveats: list[Caveats]) -> pd.DataFrame:
    """The frame with its `note` (words, data names) and `caveats` (the records) columns set from `caveats`."""
    frame = frame.copy()
    frame["note"] = [render(c) for c in caveats]
    frame["caveats"] = pd.Series([tuple(c) for c in caveats], index=frame.index, dtype=object)
    return frame


def complete_cases(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, Caveat | None]:
    """The cases observed on every one of `columns`, and a caveat saying how many were left out for which."""
    left_out, caveat = _left_out(frame, columns)
    return (frame, None) if caveat is None else (frame[~left_out], caveat)


def left_out_caveat(frame: pd.DataFrame, columns: list[str]) -> Caveat | None:
    """complete_cases' caveat alone, where the cases themselves are not needed (no copy of the frame's rows)."""
    return _left_out(frame, columns)[1]


def _blank(values: pd.Series | pd.DataFrame) -> np.ndarray:
    """Which cases are blank in a column (in any of the frame's columns of that name, where it has several)."""
    blank = values.isna()
    return (blank.any(axis=1) if isinstance(blank, pd.DataFrame) else blank).to_numpy(dtype=bool)


def _left_out(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, Caveat | None]:
    missing = {c: _blank(frame[c]) for c in dict.fromkeys(columns)}
    left_out = np.logical_or.reduce(list(missing.values())) if missing else np.zeros(len(frame), dtype=bool)
    if not left_out.any():
        return left_out, None
    names = [c for c, blank in missing.items() if blank.any()]
    return left_out, Caveat.of("missing", names, left_out=int(left_out.sum()), total=len(frame))


def from_warnings(messages: Iterable[tuple[str, str]]) -> Caveats:
    """Library warnings nothing else explains, each once: (category, first line of the message)."""
    return tuple(Caveat.of("warning", category=c, text=t) for c, t in dict.fromkeys(messages))


def error_caveat(exc: Exception, source: str, **fields) -> Caveat:
    """An "error" caveat from what a library or casemeta raised: its first line, without the leading source
    name (the row already says which study)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    prefix = f"{source}: "
    return Caveat.of("error", reason=text.removeprefix(prefix), **fields)
