"""The analysis plan of a study (analysis/<study>.yaml): what to reproduce, tabulate and model.

A plan is checked twice when it is loaded: against plan.schema.yaml (its
shape), and against the study's codebook (every variable it names exists and
has a type the analysis can use), so that a typo stops the study before any
analysis instead of turning into rows of "not estimable".
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import jsonschema
import yaml

from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError

OUTCOME_TYPES = ("binary",)
CONDITION_TYPES = ("binary", "category", "integer")
# a QCA set is a binary variable (crisp) or a numeric one calibrated in the plan (fuzzy)
CALIBRATED_TYPES = ("integer",)


@cache
def _schema() -> dict:
    return yaml.safe_load(files("casemeta").joinpath("plan.schema.yaml").read_text("utf-8"))


def read_checked_yaml(path: str | Path, schema: dict, what: str, schema_name: str) -> dict:
    """A YAML file as a dict, checked against a JSON schema (all problems at once); `what` and
    `schema_name` name the file and its schema in errors."""
    path = Path(path)
    if not path.is_file():
        raise CasemetaError(f"{path}: {what} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CasemetaError(f"{path}: not a readable YAML {what}: {exc}") from exc
    errors = jsonschema.Draft202012Validator(schema).iter_errors(data)
    problems = [f"at {'/'.join(map(str, e.absolute_path)) or 'top level'}: {e.message}" for e in errors]
    if problems:
        raise CasemetaError(f"{path}: the {what} does not follow the {schema_name} schema", problems)
    return data


def read_plan(path: str | Path) -> dict:
    """The plan as a dict, checked against plan.schema.yaml (all problems at once)."""
    return read_checked_yaml(path, _schema(), "analysis plan", "plan")


def unknown_name(name: str, known, what: str, among: str) -> str:
    """`unknown <what> 'x'` with the closest known names, or all of them (`among`: "the codebook's variables")."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; {among} are {', '.join(known)}"
    return f"unknown {what} {name!r}{hint}"


def load_plan(path: str | Path, codebook: Codebook) -> dict:
    """The plan, checked against the schema and against the study's codebook."""
    plan = read_plan(path)
    problems = plan_problems(plan, codebook)
    if problems:
        raise CasemetaError(f"{path}: the analysis plan does not fit the codebook {codebook.path}", problems)
    return plan


def publication(plan: dict) -> dict:
    """The plan's display options (its `publication:` section); {} where it has none."""
    return plan.get("publication") or {}


def term_variables(term: str) -> list[str]:
    """The variable names in a model term: `a`, `a:b`, `a*b`, `a[ref=x]` (casemeta.stats.formula's grammar,
    which has no other form: anything else is named whole, as a variable the codebook lacks). A reference
    level may itself hold `:` or `*` (`a[ref=x:y]`): the term is split only outside its brackets."""
    return [factor.split("[", 1)[0].strip() for factor in re.split(r"[:*]", re.sub(r"\[[^\]]*\]", "[]", term))]


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
            for name in term_variables(term):
                need(name, f"{where}/{i}", "predictor", CONDITION_TYPES)
    problems += _model_option_problems(models, need)
    for i, name in enumerate(publication(plan).get("case_columns", [])):
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
        for key, (full_out, crossover, full_in) in calibrate.items():
            if not (full_out < crossover < full_in or full_out > crossover > full_in):
                problems.append(f"at qca/{q}/calibrate/{key}: anchors {full_out}, {crossover}, {full_in}: the crossover "
                                "must lie strictly between full non-membership and full membership")
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
                 "qca": ("qca",)}


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


def with_references(term: str, codebook: Codebook | None, given: set[str] = frozenset()) -> str:
    """A term with the codebook's reference level added to each category variable that has one
    (`market_orientation` -> `market_orientation[ref=local_only]`), unless the formula gives the
    variable a reference level itself (`given`)."""
    if codebook is None:
        return term
    known = {v.name: v for v in (*codebook.variables, *codebook.derived) if v.name not in given}

    def add(match: re.Match) -> str:
        variable = known.get(match.group(1))
        reference = getattr(variable, "reference", None)
        return f"{match.group(1)}[ref={reference}]" if reference else match.group(1)

    return re.sub(r"(?<![\w.\[=(])([A-Za-z_][A-Za-z0-9_.]*)(?!\s*[\[(\w])", add, term)


def model_specs(plan: dict, codebook: Codebook | None = None) -> list[dict]:
    """Expand the plan's outcomes × predictor sets into named models; with the codebook, each
    category predictor's declared reference level enters the formula."""
    spec = plan.get("models") or {}
    out = []
    for outcome in spec.get("outcomes", []):
        for set_name, predictor_set in spec.get("predictor_sets", {}).items():
            predictors = set_terms(predictor_set)
            given = {m.group(1) for term in predictors for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\[\s*ref\s*=", term)}
            terms = [with_references(term, codebook, given) for term in predictors]
            in_model = set(_terms(" + ".join(predictors))) if spec.get("tests") else set()
            out.append({"model": f"{outcome} ~ {set_name}", "outcome": outcome, "predictors": predictors,
                        "label": set_label(set_name, predictor_set),
                        "formula": f"{outcome} ~ {' + '.join(terms)}", "method": spec.get("method", "auto"),
                        "correction": spec.get("correction", "none"),
                        "tests": [t for t in spec.get("tests") or [] if set(_terms(t)) <= in_model]})
    return out
