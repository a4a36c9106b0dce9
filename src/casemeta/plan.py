"""The analysis plan of a study (analysis/<study>.yaml): what to reproduce, tabulate and model.

A plan is checked twice when it is loaded: against plan.schema.yaml (its
shape), and against the study's codebook (every variable it names exists and
has a type the analysis can use), so that a typo stops the study before any
analysis instead of turning into rows of "not estimable".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping
from pathlib import Path


from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.options import anchor_problem
from casemeta.coded.yaml_files import packaged_schema, read_checked_yaml, schema_problems  # noqa: F401 (read_checked_yaml: synthesis reads with it)

OUTCOME_TYPES = ("binary",)
CONDITION_TYPES = ("binary", "category", "integer")
# a QCA set is a binary variable (crisp) or a numeric one calibrated in the plan (fuzzy)
CALIBRATED_TYPES = ("integer",)


def _schema() -> dict:
    return packaged_schema("plan.schema.yaml")


def read_plan(path: str | Path) -> dict:
    """The plan as a dict, checked against plan.schema.yaml (all problems at once)."""
    return read_checked_yaml(path, _schema(), "analysis plan", "plan")


def unknown_name(name: str, known, what: str, among: str) -> str:
    """`unknown <what> 'x'` with the closest known names, or all of them (`among`: "the codebook's variables")."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; {among} are {', '.join(known)}"
    return f"unknown {what} {name!r}{hint}"


def load_plan(path: str | Path, codebook: Codebook) -> "Plan":
    """The plan, checked against the schema and against the study's codebook, as typed frozen objects."""
    from casemeta.coded.yaml_files import kept

    # checked against this very codebook object (one changed in memory keeps its path, not its content)
    return kept("plan", [path], lambda: _read_plan(path, codebook), uses=codebook)


def _read_plan(path: str | Path, codebook: Codebook) -> "Plan":
    raw = read_plan(path)
    problems = plan_problems(raw, codebook)
    if problems:
        raise CasemetaError(f"{path}: the analysis plan does not fit the codebook {codebook.path}", problems)
    return build_plan(raw, codebook, Path(path))


def term_variables(term: str) -> list[str]:
    """The variable names in a model term (`a`, `a:b`, `a*b`, `a[ref=x]`), read by casemeta.stats.formula's
    parser, the one reader of formulas; a term outside its grammar raises its CasemetaError."""
    from casemeta.stats.formula import parse_formula

    return parse_formula(f"_ ~ {term}").predictors


def plan_problems(plan: dict, codebook: Codebook) -> list[str]:
    """Every variable the plan names that the codebook lacks, or whose type does not fit its role."""
    known = {v.name: v for v in (*codebook.variables, *codebook.derived)}
    problems: list[str] = []

    def need(name: str, where: str, role: str, types: tuple[str, ...] = ()) -> None:
        if name not in known:
            problems.append(f"at {where}: " + unknown_name(name, known, "variable", "the codebook's variables"))
        elif types and known[name].type not in types:
            problems.append(f"at {where}: {role} {name!r} has type {known[name].type}; "
                            f"a {role} must be {' or '.join(types)}")

    crosstabs = plan.get("crosstabs") or {}
    for i, name in enumerate(crosstabs.get("outcomes", [])):
        need(name, f"crosstabs/outcomes/{i}", "outcome", OUTCOME_TYPES)
    for i, name in enumerate(crosstabs.get("conditions", [])):
        need(name, f"crosstabs/conditions/{i}", "condition", CONDITION_TYPES)
    models = plan.get("models") or {}
    for i, name in enumerate(models.get("outcomes", [])):
        need(name, f"models/outcomes/{i}", "outcome", OUTCOME_TYPES)
    for set_name, spec in (models.get("predictor_sets") or {}).items():
        where = f"models/predictor_sets/{set_name}" + ("/terms" if isinstance(spec, dict) else "")
        for i, term in enumerate(set_terms(spec)):
            try:
                names = term_variables(term)
            except CasemetaError as exc:
                problems.append(f"at {where}/{i}: term {term!r} is outside the formula grammar: {exc.summary}")
                continue
            for name in names:
                need(name, f"{where}/{i}", "predictor", CONDITION_TYPES)
    problems += _model_option_problems(models, need)
    for i, name in enumerate((plan.get("publication") or {}).get("case_columns", [])):
        need(name, f"publication/case_columns/{i}", "column")
    for t, table in enumerate((plan.get("reproduce") or {}).get("tables", [])):
        for side in ("rows", "columns"):
            spec = table.get(side)
            if isinstance(spec, dict) and "by" in spec:
                need(spec["by"], f"reproduce/tables/{t}/{side}/by", "grouping", CONDITION_TYPES)
            elif isinstance(spec, list):
                for i, line in enumerate(spec):
                    if "variable" in line:
                        need(line["variable"], f"reproduce/tables/{t}/{side}/{i}/variable", "count", ("binary",))
    problems += qca_problems(plan, need, known)
    problems += robustness_problems(plan, codebook)
    return problems


# the columns of the robustness results a decision's column may not take the name of
RESERVED_DECISION_NAMES = ("universe", "n_cases", "model", "outcome", "predictor_set", "term", "condition", "estimate",
                           "std_error", "ci_low", "ci_high", "p_value", "method", "n", "notes", "test", "odds_ratio")


def robustness_problems(plan: dict, codebook: Codebook) -> list[str]:
    """The decisions of `robustness:`: names unique, each option's rules checked as the codebook checks its
    derived rules, its `exclude` condition as a `where:` is, its model settings as `models:` are; no two
    decisions replace the same variable's rule (which would win would depend on their order)."""
    from casemeta.coded.codebook import derived_rule_problems
    from casemeta.coded.expressions import expression_problem

    section = plan.get("robustness")
    if not section:
        return []
    problems = []
    coded = {v.name: v for v in codebook.variables if v.type in ("binary", "category", "integer")}
    derived = {v.name: v for v in codebook.derived}
    known = {v.name for v in (*codebook.variables, *codebook.derived)}
    decisions = section.get("decisions", [])
    names = [d["name"] for d in decisions]
    problems += [f"at robustness/decisions: two decisions are named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    replaced: dict[tuple[str, str], str] = {}
    for d, decision in enumerate(decisions):
        where = f"robustness/decisions/{d}"
        if decision["name"] in RESERVED_DECISION_NAMES:
            problems.append(f"at {where}/name: {decision['name']!r} names a column of the robustness results; "
                            "choose another name")
        options = [o["name"] for o in decision["options"]]
        problems += [f"at {where}/options: two options are named {n!r}" for n in sorted({n for n in options if options.count(n) > 1})]
        for o, option in enumerate(decision["options"]):
            at = f"{where}/options/{o}"
            for kind, allowed, reads, what in (("derived", derived, known, "derived variable"),
                                               ("coded", coded, set(coded), "coded variable (binary, category or integer)")):
                for name, rule in (option.get(kind) or {}).items():
                    if name not in allowed:
                        problems.append(f"at {at}/{kind}/{name}: " + unknown_name(name, list(allowed), what,
                                                                                   f"the codebook's {kind} variables"))
                        continue
                    entry = allowed[name]
                    from dataclasses import replace

                    problems += [f"at {at}/{kind}/{name}: {p} (codebook {codebook.path}, variable {name!r})"
                                 for p in derived_rule_problems(replace(entry, rule=dict(rule)), reads)]
                    for c, case in enumerate(rule.get("cases", [])):
                        problem = expression_problem(codebook, case["when"], f"{at}/{kind}/{name}/cases/{c}/when")
                        if problem:
                            problems.append(f"at {at}/{kind}/{name}/cases/{c}/when: {problem}")
                    owner = replaced.setdefault((kind, name), decision["name"])
                    if owner != decision["name"]:
                        problems.append(f"at {at}/{kind}/{name}: decisions {owner!r} and {decision['name']!r} both replace "
                                        f"the rule of {name!r}; put these options in one decision")
            if "exclude" in option:
                problem = expression_problem(codebook, option["exclude"], f"{at}/exclude")
                if problem:
                    problems.append(f"at {at}/exclude: {problem}")
            settings = {**(plan.get("models") or {}), **(option.get("models") or {})}
            if settings.get("correction", "none") != "none" and settings.get("method", "auto") == "ml":
                problems.append(f"at {at}/models: correction {settings['correction']} corrects Firth fits; "
                                "with method ml it cannot apply")
    return problems


def qca_problems(plan: dict, need, known: dict) -> list[str]:
    """A QCA's sets must be binary, or numeric and calibrated; its expectations and calibrations must name its sets."""
    problems = []
    names = [entry["name"] for entry in plan.get("qca", [])]
    problems += [f"at qca: two QCAs are named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    for q, entry in enumerate(plan.get("qca", [])):
        calibrate = entry.get("calibrate") or {}
        sets = [entry["outcome"], *entry["conditions"]]
        for where, name in [("outcome", entry["outcome"]), *((f"conditions/{i}", c) for i, c in enumerate(entry["conditions"]))]:
            if name in calibrate:
                need(name, f"qca/{q}/{where}", "calibrated set", CALIBRATED_TYPES)
            else:
                need(name, f"qca/{q}/{where}", "set (uncalibrated)", ("binary",))
        for key, where in [(k, "dir_exp") for k in entry.get("dir_exp") or {}] + [(k, "calibrate") for k in calibrate]:
            allowed = entry["conditions"] if where == "dir_exp" else sets
            if key not in allowed:
                kind = "condition" if where == "dir_exp" else "set"
                problems.append(f"at qca/{q}/{where}/{key}: "
                                + unknown_name(key, allowed, f"{kind} of this QCA", f"this QCA's {kind}s"))
        for key, anchors in calibrate.items():
            problem = anchor_problem(anchors)  # the rule `casemeta qca --calibrate` follows too
            if problem:
                problems.append(f"at qca/{q}/calibrate/{key}: {problem}")
        problems += qca_robustness_problems(entry, f"qca/{q}/robustness")
    return problems


def qca_robustness_problems(entry: dict, where: str) -> list[str]:
    """A QCA's robustness section: its solution exists, its sweeps and test sets name this QCA's calibrated sets,
    with anchors in order, and each test set changes something."""
    robustness = entry.get("robustness")
    if robustness is None:
        return []
    problems = []
    calibrated = list(entry.get("calibrate") or {})
    if robustness.get("solution") == "intermediate" and not entry.get("dir_exp"):
        problems.append(f"at {where}/solution: the intermediate solution needs directional expectations; "
                        "give this QCA dir_exp, or test the conservative or parsimonious solution")

    def calibrated_set(name: str, at: str) -> None:
        if name not in calibrated:
            among = "this QCA's calibrated sets" if calibrated else "this QCA calibrates no set; its calibrated sets"
            problems.append(f"at {at}: " + unknown_name(name, calibrated, "calibrated set", among))

    for name in robustness.get("calibration") or {}:
        calibrated_set(name, f"{where}/calibration/{name}")
    names = [t["name"] for t in robustness.get("test_sets") or []]
    problems += [f"at {where}/test_sets: two test sets are named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    own_incl = entry.get("incl_cut", 1)
    own = {"incl_cut": own_incl[0] if isinstance(own_incl, list) else own_incl, "n_cut": entry.get("n_cut", 1),
           "pri_cut": entry.get("pri_cut", 0)}
    for t, test_set in enumerate(robustness.get("test_sets") or []):
        for name, anchors in (test_set.get("calibrate") or {}).items():
            calibrated_set(name, f"{where}/test_sets/{t}/calibrate/{name}")
            problem = anchor_problem(anchors)
            if problem:
                problems.append(f"at {where}/test_sets/{t}/calibrate/{name}: {problem}")
        changed = [k for k in own if k in test_set and float(test_set[k]) != float(own[k])]
        changed += [k for k, v in (test_set.get("calibrate") or {}).items()
                    if k in calibrated and [float(x) for x in v] != [float(x) for x in entry["calibrate"][k]]]
        if not changed:
            problems.append(f"at {where}/test_sets/{t}: test set {test_set['name']!r} has the QCA's own thresholds; "
                            "a test set changes at least one cut or anchor")
    return problems


def _model_option_problems(models: dict, need) -> list[str]:
    """The models' correction and joint tests: each tested term names a predictor and is in some model."""
    problems = []
    if models.get("correction", "none") != "none" and models.get("method", "auto") == "ml":
        problems.append(f"at models/correction: {models['correction']} corrects Firth fits; use method firth or auto")
    if not models.get("tests"):
        return problems
    sets = []
    for predictor_set in (models.get("predictor_sets") or {}).values():
        try:
            sets.append(frozenset(_terms(" + ".join(set_terms(predictor_set)))))
        except CasemetaError:  # its terms are refused above, by name
            pass
    for i, tested in enumerate(models.get("tests") or []):
        try:
            terms = _terms(tested)
        except CasemetaError as exc:
            problems.append(f"at models/tests/{i}: {exc.summary}")
            continue
        for term in terms:
            for name in term:
                need(name, f"models/tests/{i}", "predictor", CONDITION_TYPES)
        if not any(set(terms) <= s for s in sets):
            problems.append(f"at models/tests/{i}: no predictor set has every term of {tested!r}")
    return problems


def _terms(rhs: str) -> list[frozenset]:
    """The terms of a right-hand side, as sets of variable names (a:b = b:a)."""
    from casemeta.stats.formula import parse_formula

    return [frozenset(t) for t in parse_formula(f"_ ~ {rhs}").terms]


# The plan sections each workflow step reads (a step not named here reads the whole plan). The rules take
# them as a param, so that a step re-runs when, and only when, what it reads changes.
STEP_SECTIONS = {"models": ("crosstabs", "models"), "figures": ("crosstabs", "models"), "reproduce": ("reproduce",),
                 "qca": ("qca",), "case_influence": ("crosstabs", "models", "robustness"),
                 "robustness": ("crosstabs", "models", "robustness")}


def plan_sections(plan: dict, step: str) -> dict:
    """The sections of the plan the workflow step reads (STEP_SECTIONS), or the whole plan."""
    sections = STEP_SECTIONS.get(step)
    return dict(plan) if sections is None else {k: plan[k] for k in sections if k in plan}


def set_terms(spec: list | dict) -> list[str]:
    """A predictor set's terms: the set is a list of terms, or {label:, terms:}."""
    return spec["terms"] if isinstance(spec, dict) else spec


def set_label(name: str, spec: list | dict) -> str:
    """What a reader sees for a predictor set: its `label`, else its name in words."""
    return spec["label"] if isinstance(spec, dict) and spec.get("label") else name.replace("_", " ").capitalize()


def frozen(value: Any) -> Any:
    """A YAML value made immutable: mappings as read-only mappings, lists as tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class ModelSpec:
    """One model of the plan: an outcome with a predictor set. Identified by (outcome, predictor_set)."""

    outcome: str
    predictor_set: str
    label: str  # the predictor set as a reader knows it
    terms: tuple[str, ...]  # the set's terms as the plan writes them
    formula: str  # the formula fitted: terms parsed once, with each category predictor's reference level
    variables: tuple[str, ...]  # the predictors' variable names, in order of appearance
    method: str = "auto"
    correction: str = "none"
    tests: tuple[str, ...] = ()  # the plan's joint tests this model holds every term of

    @property
    def key(self) -> tuple[str, str]:
        return (self.outcome, self.predictor_set)

    @property
    def name(self) -> str:
        """The model's name in results files (their `model` column), for readers of the CSVs."""
        return f"{self.outcome} ~ {self.predictor_set}"


@dataclass(frozen=True)
class CrosstabPlan:
    outcomes: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    missing: str = "note"  # cases with no value of the condition: "note" (counted in a note) or "row" (a Missing row)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(o, c) for o in self.outcomes for c in self.conditions]


@dataclass(frozen=True)
class Publication:
    case_columns: tuple[str, ...] = ()  # empty: the codebook's identifier
    model_display: str = "odds_ratio"
    stars: bool = False
    case_listing_limit: int = 200  # Word and LaTeX list at most this many cases, and so does a QCA cell

    @property
    def odds(self) -> bool:
        return self.model_display == "odds_ratio"


@dataclass(frozen=True)
class ReproducePlan:
    published_numbers: str
    tables: tuple[Mapping, ...]  # count-table specifications (frozen), in plan order
    case_listing: str | None = None  # the published table that lists the cases, re-rendered cell by cell

    @property
    def titles(self) -> dict[str, str]:
        return {t["table"]: t.get("title", "") for t in self.tables}


@dataclass(frozen=True)
class QcaPlan:
    name: str
    outcome: str
    conditions: tuple[str, ...]
    incl_cut: float = 1.0
    excl_cut: float | None = None
    n_cut: int = 1
    pri_cut: float = 0.0
    dir_exp: Mapping = field(default_factory=lambda: MappingProxyType({}))
    negate: bool = False
    superset: bool = False
    calibrate: Mapping = field(default_factory=lambda: MappingProxyType({}))
    robustness: "QcaRobustness | None" = None


@dataclass(frozen=True)
class QcaRobustness:
    """A QCA's robustness section (casemeta.stats.qca.robustness): which solution is tested, the sweeps of its
    ranges keyed (parameter, set, anchor), its test sets, and whether to leave each case out in turn."""

    solution: str
    sweeps: Mapping  # (parameter, set, anchor) -> stats.qca.robustness.Sweep, in the plan's order
    test_sets: tuple  # stats.qca.robustness.TestSet, in the plan's order
    leave_one_out: bool = False


@dataclass(frozen=True)
class Option:
    """One option of a robustness decision: rules that replace the codebook's, cases left out, model settings."""

    name: str
    label: str
    derived: Mapping = field(default_factory=lambda: MappingProxyType({}))  # derived variable -> rule
    coded: Mapping = field(default_factory=lambda: MappingProxyType({}))  # coded variable -> rule (derived kinds)
    exclude: str | None = None  # a condition: the cases it selects are left out
    models: Mapping = field(default_factory=lambda: MappingProxyType({}))  # method and/or correction


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    options: tuple[Option, ...]  # the first is the study's own coding


@dataclass(frozen=True)
class RobustnessPlan:
    """The plan's `robustness:` section: case influence, and the multiverse (every combination of one option
    per decision is a universe). No section: neither."""

    decisions: tuple[Decision, ...] = ()  # none: no multiverse
    case_influence: bool = False
    chunks: int = 1
    draws: int = 0  # curves drawn under the null for specification-curve inference (0: none)
    seed: int = 20200101

    @property
    def multiverse(self) -> bool:
        return bool(self.decisions)

    @property
    def size(self) -> int:
        """How many universes: the product of the decisions' numbers of options."""
        import math

        return math.prod(len(d.options) for d in self.decisions)


@dataclass(frozen=True)
class Plan:
    """An analysis plan (analysis/<study>.yaml), read once, checked against the codebook, immutable."""

    path: Path
    study: str
    crosstabs: CrosstabPlan
    models: tuple[ModelSpec, ...]
    loo_max_cases: int | None
    publication: Publication
    reproduce: ReproducePlan | None
    qca: tuple[QcaPlan, ...]
    sections: Mapping  # the plan as read (frozen), for the sections each step reads (STEP_SECTIONS)
    robustness: RobustnessPlan = RobustnessPlan()  # no section: nothing beyond the main run

    def model(self, key: tuple[str, str]) -> ModelSpec:
        return next(m for m in self.models if m.key == key)

    @property
    def model_variables(self) -> frozenset[str]:
        """Every variable the cross-tabs and models analyse (their outcomes, conditions and predictors): all the
        models step reads of the cases."""
        return frozenset({name for pair in self.crosstabs.pairs for name in pair} |
                         {name for m in self.models for name in (m.outcome, *m.variables)})

    def section_text(self, step: str) -> str:
        """The sections of the plan a workflow step reads, as canonical text (a rule's param)."""
        import json

        return json.dumps(plan_sections(thawed(self.sections), step), sort_keys=True)


def thawed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thawed(v) for v in value]
    return value


def _model_specs(raw: dict, codebook: Codebook) -> tuple[ModelSpec, ...]:
    """The plan's outcomes × predictor sets, each formula parsed once with the codebook's reference levels."""
    from casemeta.stats.formula import parse_formula

    spec = raw.get("models") or {}
    references = {v.name: v.reference for v in (*codebook.variables, *codebook.derived) if getattr(v, "reference", None)}
    tests = list(spec.get("tests") or [])
    out = []
    for outcome in spec.get("outcomes", []):
        for set_name, predictor_set in (spec.get("predictor_sets") or {}).items():
            terms = tuple(set_terms(predictor_set))
            parsed = parse_formula(f"{outcome} ~ {' + '.join(terms)}").with_references(references)
            in_model = {frozenset(t) for t in parsed.terms}
            out.append(ModelSpec(outcome, set_name, set_label(set_name, predictor_set), terms, parsed.text,
                                 tuple(parsed.predictors), spec.get("method", "auto"), spec.get("correction", "none"),
                                 tuple(t for t in tests if set(_terms(t)) <= in_model)))
    return tuple(out)


def _qca_plan(entry: dict) -> QcaPlan:
    incl = entry.get("incl_cut", 1)
    incl, excl = (incl[0], incl[1]) if isinstance(incl, list) else (incl, None)
    return QcaPlan(entry["name"], entry["outcome"], tuple(entry["conditions"]), float(incl),
                   None if excl is None else float(excl), int(entry.get("n_cut", 1)), float(entry.get("pri_cut", 0)),
                   frozen({c: int(v) for c, v in (entry.get("dir_exp") or {}).items()}),
                   bool(entry.get("negate", False)), bool(entry.get("superset", False)),
                   frozen({k: tuple(float(x) for x in v) for k, v in (entry.get("calibrate") or {}).items()}),
                   _qca_robustness(entry))


def _qca_robustness(entry: dict) -> QcaRobustness | None:
    from casemeta.stats.qca.settings import ANCHORS, DEFAULT_MAX_RUNS, Sweep, TestSet

    raw = entry.get("robustness")
    if raw is None:
        return None

    def sweep(spec: dict, kind=float) -> Sweep:
        return Sweep(kind(spec["step"]), int(spec.get("max_runs", DEFAULT_MAX_RUNS)))

    sweeps = {}
    for parameter, kind in (("incl_cut", float), ("n_cut", int)):
        if parameter in raw:
            sweeps[(parameter, "", "")] = sweep(raw[parameter], kind)
    for name, spec in (raw.get("calibration") or {}).items():
        sweeps.update({("calibrate", name, anchor): sweep(spec) for anchor in ANCHORS})
    test_sets = tuple(TestSet(t["name"], None if "incl_cut" not in t else float(t["incl_cut"]),
                              None if "n_cut" not in t else int(t["n_cut"]),
                              None if "pri_cut" not in t else float(t["pri_cut"]),
                              frozen({k: tuple(float(x) for x in v) for k, v in (t.get("calibrate") or {}).items()}))
                      for t in raw.get("test_sets") or [])
    solution = raw.get("solution", "intermediate" if entry.get("dir_exp") else "conservative")
    return QcaRobustness(solution, frozen(sweeps), test_sets, bool(raw.get("leave_one_out", False)))


def _robustness_plan(section: dict | None) -> RobustnessPlan:
    section = section or {}
    decisions = tuple(
        Decision(d["name"], d.get("label") or d["name"].replace("_", " ").capitalize(),
                 tuple(Option(o["name"], o.get("label") or o["name"].replace("_", " "), frozen(o.get("derived") or {}),
                              frozen(o.get("coded") or {}), o.get("exclude"), frozen(o.get("models") or {}))
                       for o in d["options"]))
        for d in section.get("decisions") or ())
    inference = section.get("inference") or {}
    return RobustnessPlan(decisions, bool(section.get("case_influence", False)), int(section.get("chunks", 1)),
                          int(inference.get("draws", RobustnessPlan.draws)), int(inference.get("seed", RobustnessPlan.seed)))


def plan_from_dict(raw: dict, codebook: Codebook, path: str | Path = "<plan>") -> Plan:
    """A plan given as a dict (a program's or a test's), checked as a plan file is: schema, then codebook."""
    raw = {"study": codebook.study, **raw}
    problems = schema_problems(raw, _schema()) or plan_problems(raw, codebook)
    if problems:
        raise CasemetaError(f"{path}: the analysis plan does not fit the codebook {codebook.path}", problems)
    return build_plan(raw, codebook, Path(path))


def build_plan(raw: dict, codebook: Codebook, path: Path) -> Plan:
    """The typed plan of a checked plan dict (plan_problems found nothing)."""
    crosstabs = raw.get("crosstabs") or {}
    models = raw.get("models") or {}
    pub = raw.get("publication") or {}
    reproduce = raw.get("reproduce")
    return Plan(
        path=path, study=raw["study"],
        crosstabs=CrosstabPlan(tuple(crosstabs.get("outcomes", [])), tuple(crosstabs.get("conditions", [])),
                               crosstabs.get("missing", "note")),
        models=_model_specs(raw, codebook),
        loo_max_cases=models.get("loo_max_cases"),
        publication=Publication(tuple(pub.get("case_columns") or (codebook.id_column,)),
                                pub.get("model_display", "odds_ratio"), bool(pub.get("stars", False)),
                                int(pub.get("case_listing_limit", Publication.case_listing_limit))),
        reproduce=None if reproduce is None else ReproducePlan(reproduce["published_numbers"], frozen(reproduce["tables"]),
                                                               reproduce.get("case_listing")),
        qca=tuple(_qca_plan(e) for e in raw.get("qca") or []),
        sections=frozen(raw),
        robustness=_robustness_plan(raw.get("robustness")),
    )
