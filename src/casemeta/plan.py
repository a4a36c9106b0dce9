"""The analysis plan of a study (analysis/<study>.yaml): what to reproduce, tabulate and model."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import jsonschema
import yaml

from casemeta.errors import CasemetaError


@cache
def _schema() -> dict:
    return yaml.safe_load(files("casemeta").joinpath("plan.schema.yaml").read_text("utf-8"))


def load_plan(path: str | Path) -> dict:
    """The plan as a dict, checked against plan.schema.yaml (all problems at once)."""
    path = Path(path)
    if not path.is_file():
        raise CasemetaError(f"{path}: analysis plan not found")
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CasemetaError(f"{path}: not a readable YAML analysis plan: {exc}") from exc
    errors = jsonschema.Draft202012Validator(_schema()).iter_errors(plan)
    problems = [f"at {'/'.join(map(str, e.absolute_path)) or 'top level'}: {e.message}" for e in errors]
    if problems:
        raise CasemetaError(f"{path}: the analysis plan does not follow the plan schema", problems)
    return plan


def model_specs(plan: dict) -> list[dict]:
    """Expand the plan's outcomes × predictor sets into named models."""
    spec = plan.get("models") or {}
    out = []
    for outcome in spec.get("outcomes", []):
        for set_name, predictors in spec.get("predictor_sets", {}).items():
            out.append({"model": f"{outcome} ~ {set_name}", "outcome": outcome, "predictors": predictors,
                        "formula": f"{outcome} ~ {' + '.join(predictors)}", "method": spec.get("method", "auto")})
    return out
