"""What a plan asks of a QCA's robustness (casemeta.stats.qca.robustness): the sweeps of its ranges and its test
sets. Without NumPy or pandas, so that a plan can be read without them (Snakemake's process reads every plan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

ANCHORS = ("full_out", "crossover", "full_in")
DEFAULT_MAX_RUNS = 20  # SetMethods' max.runs


@dataclass(frozen=True)
class Sweep:
    """How a range is searched: one step at a time, at most max_runs steps each way."""

    step: float
    max_runs: int = DEFAULT_MAX_RUNS


@dataclass(frozen=True)
class TestSet:
    """The QCA again with alternative thresholds: what it leaves out (None) stays as the QCA has it; `calibrate`
    replaces the anchors of the sets it names."""

    __test__ = False  # not a pytest test class

    name: str
    incl_cut: float | None = None
    n_cut: int | None = None
    pri_cut: float | None = None
    calibrate: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
