"""The data of one universe of a multiverse: the validated cases recoded and re-derived under a combination of
coding decisions (the plan's `robustness:` options), then the excluded cases dropped.

An option may replace the rule of a derived variable (`derived:`), recode a coded variable by a rule of the same
kinds from the coded variables (`coded:`), or exclude cases (`exclude:`, a condition as in `where:`). The
derived variables are computed by coded.derive, the function of the main run, from a codebook whose rules are
the option's; so a universe's data are what the main run would give had the codebook said so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.coded.derive import _apply, _check_declared, derive
from casemeta.coded.expressions import evaluate


def thawed_rule(rule: Mapping) -> dict:
    """A rule as the codebook holds it (plain dicts and lists), from the plan's frozen mapping."""
    def plain(value):
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return plain(rule)


def with_rules(codebook: Codebook, derived: Mapping[str, Mapping]) -> Codebook:
    """The codebook with these derived variables' rules replaced (every other entry as it is)."""
    if not derived:
        return codebook
    return replace(codebook, derived=tuple(replace(v, rule=thawed_rule(derived[v.name])) if v.name in derived else v
                                           for v in codebook.derived))


def recoded(cases: pd.DataFrame, codebook: Codebook, coded: Mapping[str, Mapping], context: str) -> pd.DataFrame:
    """The validated cases with these coded variables recomputed by their (derived-kind) rules, each from the
    coded values as validated, in the order given; their values are checked against the codebook entry."""
    if not coded:
        return cases
    frame = cases.copy()
    source = cases.copy()
    for name, rule in coded.items():
        var = replace(codebook.variable(name), rule=thawed_rule(rule))
        values = _apply(var, source, replace(codebook, path=context))
        frame[name] = values.astype(cases[name].dtype) if var.whole_numbers else values
        _check_declared(frame, var, replace(codebook, path=context))
    return frame


def universe_frame(cases: pd.DataFrame, codebook: Codebook, derived: Mapping[str, Mapping],
                   coded: Mapping[str, Mapping], exclude: tuple[str, ...], context: str) -> pd.DataFrame:
    """The derived cases of one universe: coded variables recoded, derived variables re-derived with the
    replaced rules, then every case that some `exclude` condition selects dropped."""
    return drop_excluded(derive(recoded(cases, codebook, coded, context), with_rules(codebook, derived)), exclude, context)


def drop_excluded(frame: pd.DataFrame, exclude: tuple[str, ...], context: str) -> pd.DataFrame:
    """The cases that no `exclude` condition selects."""
    for expr in exclude:
        frame = frame[~evaluate(frame, expr, f"{context}: exclude")]
    return frame
