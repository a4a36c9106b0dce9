"""The synthesis across studies: shared concepts (data/concepts.yaml) and the plan (analysis/synthesis.yaml).

A codebook variable may declare `concept: NAME`; each concept is defined once in
data/concepts.yaml. The synthesis plan names (condition concept, outcome concept)
pairs; each study whose codebook codes both concepts gives one 2×2 table per pair.
Both files are checked when loaded: against their JSON schemas, then every
concept a plan or a codebook names must exist (with the closest names offered).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.plan import read_checked_yaml, unknown_name
from casemeta.study import SYNTHESIS, Study, discover_studies

CONCEPTS_FILE = Path("data") / "concepts.yaml"
DEFAULT_DIAMONDS = ("mantel_haenszel", "random_reml", "exact_conditional")


@dataclass(frozen=True)
class Concept:
    name: str
    label: str
    definition: str


@cache
def _schema(name: str) -> dict:
    return yaml.safe_load(files("casemeta").joinpath(name).read_text("utf-8"))


def synthesis_plan_path(root: str | Path) -> Path:
    return Path(root) / "analysis" / f"{SYNTHESIS}.yaml"


def load_concepts(root: str | Path) -> dict[str, Concept]:
    path = Path(root) / CONCEPTS_FILE
    data = read_checked_yaml(path, _schema("concepts.schema.yaml"), "concepts file", "concepts")
    names = [c["name"] for c in data["concepts"]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CasemetaError(f"{path}: concept(s) defined more than once: {', '.join(twice)}")
    return {c["name"]: Concept(**c) for c in data["concepts"]}


def codebook_concept_problems(codebook: Codebook, concepts: dict[str, Concept]) -> list[str]:
    """Every concept the codebook declares that data/concepts.yaml does not define."""
    return [f"{codebook.path}: variable {v.name!r}: " + unknown_name(v.concept, concepts, "concept", "the concepts")
            for v in (*codebook.variables, *codebook.derived) if v.concept and v.concept not in concepts]


def synthesis_plan_problems(plan: dict, concepts: dict[str, Concept]) -> list[str]:
    problems = []
    seen = set()
    for i, pair in enumerate(plan["pairs"]):
        if (pair["condition"], pair["outcome"]) in seen:
            problems.append(f"at pairs/{i}: the pair {pair['condition']} → {pair['outcome']} is listed twice")
        seen.add((pair["condition"], pair["outcome"]))
        for role in ("condition", "outcome"):
            if pair[role] not in concepts:
                problems.append(f"at pairs/{i}/{role}: " + unknown_name(pair[role], concepts, "concept", "the concepts"))
        if pair["condition"] == pair["outcome"]:
            problems.append(f"at pairs/{i}: condition and outcome are both {pair['condition']!r}")
    return problems


@dataclass(frozen=True)
class Synthesis:
    """The checked plan with the concepts and the codebooks of every study it draws on."""
    plan: dict
    concepts: dict[str, Concept]
    codebooks: dict[str, Codebook]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(p["condition"], p["outcome"]) for p in self.plan["pairs"]]

    @property
    def level(self) -> float:
        return float(self.plan.get("level", 0.95))

    @property
    def diamonds(self) -> tuple[str, ...]:
        return tuple(self.plan.get("diamonds", DEFAULT_DIAMONDS))

    def label(self, concept: str) -> str:
        return self.concepts[concept].label

    def study_title(self, name: str) -> str:
        """A study as readers know it: its codebook's title (its name where the synthesis has no codebook of it)."""
        book = self.codebooks.get(name)
        return book.title if book is not None and book.title else name


def load_synthesis(root: str | Path, studies: list[str] | None = None) -> Synthesis:
    """The synthesis plan, checked against its schema, the concepts and every study's codebook."""
    root = Path(root)
    path = synthesis_plan_path(root)
    plan = read_checked_yaml(path, _schema("synthesis.schema.yaml"), "synthesis plan", "synthesis")
    concepts = load_concepts(root)
    names = discover_studies(root) if studies is None else studies
    codebooks = {name: Study(root, name).codebook() for name in names}
    problems = synthesis_plan_problems(plan, concepts)
    for codebook in codebooks.values():
        problems += codebook_concept_problems(codebook, concepts)
    if problems:
        raise CasemetaError(f"{path}: the synthesis plan does not fit the concepts of {root / CONCEPTS_FILE}", problems)
    return Synthesis(plan, concepts, codebooks)


def read_synthesis_pairs(root: str | Path) -> list[tuple[str, str]]:
    """The (condition, outcome) pairs of analysis/synthesis.yaml, checked against its schema (they name the
    synthesis tables, so the workflow reads them before it runs); a CasemetaError where it cannot be read."""
    plan = read_checked_yaml(synthesis_plan_path(root), _schema("synthesis.schema.yaml"), "synthesis plan", "synthesis")
    return [(p["condition"], p["outcome"]) for p in plan["pairs"]]
