"""Qualitative Comparative Analysis (crisp and fuzzy sets), equal to R QCA on Lipset's data."""

from casemeta.stats.qca.analysis import (MODEL_ROW, NECESSITY_COLUMNS, SOLUTION_COLUMNS, QcaResult, QcaSpec,
                                          run_qca)
from casemeta.stats.qca.sets import calibrate_direct
from casemeta.stats.qca.truth_table import Cuts

__all__ = ["MODEL_ROW", "NECESSITY_COLUMNS", "SOLUTION_COLUMNS", "Cuts", "QcaResult", "QcaSpec", "calibrate_direct", "run_qca"]
