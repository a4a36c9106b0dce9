"""Qualitative Comparative Analysis (crisp and fuzzy sets), equal to R QCA on Lipset's data.

The names below, and the submodules, are imported when first used (PEP 562), so that `casemeta.stats.qca.settings`,
which a plan needs, comes without the analysis and its NumPy and pandas."""

from importlib import import_module as _import_module

_FROM = {"MODEL_ROW": "analysis", "NECESSITY_COLUMNS": "analysis", "SOLUTION_COLUMNS": "analysis", "QcaResult": "analysis",
         "QcaSpec": "analysis", "run_qca": "analysis", "calibrate_direct": "sets", "Cuts": "truth_table"}
_SUBMODULES = ("analysis", "minimize", "robustness", "sets", "settings", "truth_table")
__all__ = ["MODEL_ROW", "NECESSITY_COLUMNS", "SOLUTION_COLUMNS", "Cuts", "QcaResult", "QcaSpec", "calibrate_direct", "run_qca"]


def __getattr__(name: str):
    if name in _FROM:
        return getattr(_import_module(f"{__name__}.{_FROM[name]}"), name)
    if name in _SUBMODULES:
        return _import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__, *_SUBMODULES})
