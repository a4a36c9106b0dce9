"""The codebook: one YAML file per study from which schema, template, docs and labels derive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from casemeta.errors import CasemetaError

BINARY_VALUES = ("0", "1")
DERIVED_RULES = {"any_of", "all_of", "count_of", "first_match", "combination", "is_in"}
RAW_RULES = {"copy", "fill_down", "slug", "has_term"}


@dataclass(frozen=True)
class Category:
    value: str
    label: str
    description: str = ""  # for coders
    notes: str = ""  # for the project team only: never shown in templates or forms


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str
    description: str = ""  # for coders: templates and forms show it
    notes: str = ""  # for the project team only (where a definition comes from): never shown to coders
    missing: str = "forbidden"
    values: tuple[Category, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    rule: dict | None = None
    reference: str | None = None  # a category's reference level in models
    concept: str | None = None  # a name in data/concepts.yaml: what the synthesis across studies pools

    @property
    def nullable(self) -> bool:
        return self.missing == "allowed"

    @property
    def whole_numbers(self) -> bool:
        """Its values are whole numbers (binary and integer variables): the steps type them Int64, the others text."""
        return self.type in ("binary", "integer")

    @property
    def allowed_values(self) -> tuple[str, ...] | None:
        """The values a cell may hold, as written in a CSV; None where free."""
        if self.type == "binary":
            return BINARY_VALUES
        if self.type == "category":
            return tuple(c.value for c in self.values)
        return None

    def expected(self) -> str:
        """What a valid cell looks like, in words, for error messages and templates."""
        if self.allowed_values is not None:
            text = "one of " + ", ".join(self.allowed_values)
        elif self.type == "integer":
            low = "" if self.minimum is None else f" >= {self.minimum}"
            high = "" if self.maximum is None else f" <= {self.maximum}"
            text = "a whole number" + (low + (" and" if low and high else "") + high)
            text += " of at most 18 digits" if self.minimum is None or self.maximum is None else ""
        elif self.type == "identifier":
            text = "a unique identifier of lower-case letters, digits and _"
        else:
            text = "non-empty text"
        return text + (" (or empty when missing)" if self.nullable else "")

    def value_label(self, value) -> str:
        for c in self.values:
            if c.value == str(value):
                return c.label
        if self.type == "binary":
            return {"0": "No", "1": "Yes"}.get(str(value), str(value))
        return str(value)


@dataclass(frozen=True)
class Codebook:
    study: str
    title: str
    variables: tuple[Variable, ...]
    derived: tuple[Variable, ...] = ()
    unit: str = "case"
    source: str = ""
    missing_values: tuple[str, ...] = ("",)
    raw: dict | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def id_column(self) -> str:
        return next(v.name for v in self.variables if v.type == "identifier")

    @property
    def coded_columns(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> Variable:
        for v in (*self.variables, *self.derived):
            if v.name == name:
                return v
        raise CasemetaError(f"{self.path or self.study}: no variable named {name!r} in the codebook")

    def label(self, name: str) -> str:
        return self.variable(name).label

    def concepts(self) -> dict[str, Variable]:
        """Each concept the codebook declares, with the variable that codes it."""
        return {v.concept: v for v in (*self.variables, *self.derived) if v.concept}


@cache
def _schema() -> dict:
    return yaml.safe_load(files("casemeta.coded").joinpath("codebook.schema.yaml").read_text("utf-8"))


def _variable(entry: dict) -> Variable:
    values = tuple(Category(**c) for c in entry.get("values", ()))
    return Variable(**{**entry, "values": values})


def load_codebook(path: str | Path) -> Codebook:
    """Read and check a codebook; every structural problem is reported at once."""
    path = Path(path)
    if not path.is_file():
        raise CasemetaError(f"{path}: codebook not found")
    from casemeta.coded.yaml_files import kept

    return kept("codebook", [path], lambda: _read_codebook(path))


def _read_codebook(path: Path) -> Codebook:
    from casemeta.coded.yaml_files import load_yaml, schema_problems

    data, lines = load_yaml(path, "codebook")  # a key given twice, or an alias bomb, is refused with its line
    problems = schema_problems(data, _schema(), lines)
    if problems:
        raise CasemetaError(f"{path}: the codebook does not follow the codebook schema", problems)
    book = Codebook(
        study=data["study"],
        title=data["title"],
        variables=tuple(_variable(v) for v in data["variables"]),
        derived=tuple(_variable(v) for v in data.get("derived", ())),
        unit=data.get("unit", "case"),
        source=data.get("source", ""),
        missing_values=tuple(data.get("missing_values", [""])),
        raw=data.get("raw"),
        path=path,
    )
    problems = _consistency_problems(book)
    if problems:
        raise CasemetaError(f"{path}: the codebook contradicts itself", problems)
    return book


def _consistency_problems(book: Codebook) -> list[str]:
    problems = []
    names = [v.name for v in (*book.variables, *book.derived)]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"variable {name!r} is defined more than once")
    ids = [v.name for v in book.variables if v.type == "identifier"]
    if len(ids) != 1:
        problems.append(f"exactly one variable must have type identifier, found {len(ids)}")
    known = set(names)
    concepts = [v.concept for v in (*book.variables, *book.derived) if v.concept]
    for concept in sorted({c for c in concepts if concepts.count(c) > 1}):
        coding = ", ".join(v.name for v in (*book.variables, *book.derived) if v.concept == concept)
        problems.append(f"concept {concept!r} is declared by more than one variable ({coding}); one study codes a concept once")
    for v in (*book.variables, *book.derived):
        if v.concept and v.type != "binary":
            problems.append(f"{v.name}: declares concept {v.concept!r} but has type {v.type}; a concept variable must be binary (0/1)")
    for v in book.variables:
        if v.type == "category" and not v.values:
            problems.append(f"{v.name}: a category variable needs `values`")
        if v.rule is not None and v.rule["kind"] not in RAW_RULES:
            problems.append(f"{v.name}: rule kind {v.rule['kind']!r} is not one of {sorted(RAW_RULES)}")
    for v in (*book.variables, *book.derived):
        if v.reference is not None and (v.type != "category" or v.reference not in v.allowed_values):
            expected = f"one of its values {', '.join(v.allowed_values)}" if v.type == "category" else "a category variable"
            problems.append(f"{v.name}: reference {v.reference!r} is not {expected}")
    for v in book.derived:
        problems += derived_rule_problems(v, known)
    return problems


def rule_inputs(rule: Mapping) -> set[str]:
    """The variables a derived-kind rule reads: its `of`, its `variable`, the names in its cases' `when`."""
    from casemeta.coded.expressions import names

    found = {*rule.get("of", ()), *([rule["variable"]] if "variable" in rule else [])}
    for case in rule.get("cases", ()):
        found |= names(case.get("when", ""))
    return found


def dependents(codebook: Codebook, changed: set[str]) -> set[str]:
    """These variables and every derived variable computed from them, however indirectly (derived variables
    are computed in codebook order, each from coded or earlier derived ones)."""
    reach = set(changed)
    for var in codebook.derived:
        if rule_inputs(var.rule or {}) & reach:
            reach.add(var.name)
    return reach


def derived_rule_problems(v: Variable, known) -> list[str]:
    """What is wrong with the derived-kind rule of `v` (its kind, the variables it reads, the values it
    gives): the codebook's check of its derived variables, and the plan's of the rules its robustness
    options put in their place."""
    rule = v.rule or {}
    if rule.get("kind") not in DERIVED_RULES:
        return [f"{v.name}: derived rule kind {rule.get('kind')!r} is not one of {sorted(DERIVED_RULES)}"]
    problems = []
    for ref in [*rule.get("of", []), *([rule["variable"]] if "variable" in rule else [])]:
        if ref not in known:
            problems.append(f"{v.name}: rule refers to unknown variable {ref!r}")
    declared = {c.value for c in v.values}
    produced = [c["value"] for c in rule.get("cases", [])]
    for value in produced:
        if value not in declared:
            problems.append(f"{v.name}: rule gives value {value!r} that `values` does not declare")
    return problems
