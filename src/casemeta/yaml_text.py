"""YAML read safely, by libyaml where PyYAML was built with it (ten times faster than the pure-Python
parser; every workflow job reads a codebook and a plan, so it counts at start-up)."""

from __future__ import annotations

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """yaml.safe_load(text), by libyaml where available: the same data, the same YAMLError on bad input."""
    return yaml.load(text, Loader=LOADER)
