"""The models step: a study's derived cases in, its cross-tab, test, model and check files out.

The statistics are casemeta.stats.study_analysis's; this module reads and writes the files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook
from casemeta.stats.study_analysis import study_models
from casemeta.study import RESULTS

log = logging.getLogger("casemeta")


def run_models(frame, plan, codebook: Codebook, outputs: dict[str, Path] | Path, draws: int, seed: int) -> None:
    """Write the crosstabs, exact tests, logistic models and out-of-sample checks of the plan to
    `outputs` (keys: crosstabs, tests, models, cross_validation), a row for each."""
    if isinstance(outputs, (str, Path)):  # a folder: the four files under their usual names
        outputs = {key: Path(outputs) / Path(path).name for key, path in RESULTS["models"].items()}
    if len(frame) == 0:
        log.warning("%s: no coded cases yet; every test and model says so in its caveats", codebook.study)
    for key, table in study_models(frame, plan, codebook, draws, seed, log).items():
        atomic_io.write_csv(outputs[key], table)
