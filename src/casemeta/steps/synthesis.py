"""The synthesis across studies: every study's derived cases in, results/synthesis/ out.

For each (condition, outcome) pair of concepts in analysis/synthesis.yaml, each
study whose codebook codes both gives a 2×2 table (study_tables.csv); where at
least 2 studies hold cases the tables are pooled (pooled.csv, one row per pair
and method), each pooled pair's sensitivity to each study (leave1out.csv, influence.csv: see
casemeta.stats.sensitivity); then publication tables in every format and a forest plot.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.publish.formats import FORMATS
from casemeta.errors import CasemetaError
from casemeta.stats.caveats import column
from casemeta.stats.sensitivity import METHOD_NAMES, influential
from casemeta.stats.synthesis_tables import PAIR, pooled_results, sensitivity_results, study_tables
from casemeta.steps.exports import chosen_files, require_results, write_formats
from casemeta.steps.pipeline import load_derived
from casemeta.study import Study, clear_synthesis, synthesis_files
from casemeta.synthesis import Synthesis, load_synthesis

log = logging.getLogger("casemeta")


def study_frames(synthesis: Synthesis, derived: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Each study's derived cases, read with its codebook's types (only the studies coding some pair's concepts)."""
    require_results([derived[name] for name in synthesis.codebooks])
    return {name: load_derived(derived[name], codebook) for name, codebook in synthesis.codebooks.items()}


def _influential_line(influence: pd.DataFrame | None, condition: str, outcome: str) -> str:
    """Which studies of a pooled pair metafor's criteria flag as influential, and in which models."""
    if influence is None:
        return ""
    part = influence[(influence["condition"] == condition) & (influence["outcome"] == outcome)]
    flagged = influential(part)
    said = "; ".join(f"{s} ({', '.join(METHOD_NAMES[m] for m in methods)})" for s, methods in flagged.items())
    return f"; influential studies (Viechtbauer and Cheung 2010): {said or 'none'}"


def synthesis_summary(synthesis: Synthesis, pooled: pd.DataFrame, influence: pd.DataFrame | None = None) -> str:
    lines = ["# Synthesis across studies", "",
             f"Studies: {', '.join(synthesis.codebooks) or 'none'}. Pairs of concepts (condition → outcome):", ""]
    for (condition, outcome), part in pooled.groupby(PAIR, sort=False):
        first = part.iloc[0]
        what = f"{synthesis.label(condition)} → {synthesis.label(outcome)}"
        not_pooled = [c for c in column(part.iloc[:1])[0] if c.code == "not_pooled"]
        if pd.isna(first["odds_ratio"]) and not_pooled:
            lines.append(f"- {what}: {not_pooled[0].message()}")
        else:
            mh = part.set_index("method").loc["mantel_haenszel"]
            lines.append(f"- {what}: pooled over {first['studies']}; Mantel–Haenszel odds ratio "
                         f"{mh['odds_ratio']:.3g} [{mh['or_ci_low']:.3g}, {mh['or_ci_high']:.3g}]"
                         + _influential_line(influence, condition, outcome))
    return "\n".join([*lines, ""])


def synthesize(root: Path, studies: list[str] | None = None, derived: list[Path] | None = None,
               out: list[Path] | None = None) -> list[Path]:
    """Write every synthesis result: the files casemeta.study.synthesis_files lists (`out`, where given, must
    name the same files), from each study's derived cases (`derived`, in the order of `studies`)."""
    from casemeta.publish.figures import synthesis_forest_plot  # matplotlib loads only here
    from casemeta.publish.synthesis_tables import synthesis_tables

    try:
        synthesis = load_synthesis(root, studies)
    except CasemetaError:
        # a plan, concepts or codebook that fails leaves no table of what an earlier synthesis pooled (the pairs it
        # named then); a study named by hand that does not exist leaves them as they were
        if studies is None or all(Study(Path(root), name).codebook_path.is_file() for name in studies):
            clear_synthesis(root, "that the synthesis plan, the concepts and the codebooks no longer give")
        raise
    names = list(synthesis.codebooks)
    if derived is not None and len(derived) != len(names):
        raise CasemetaError(f"--derived names {len(derived)} file(s) for {len(names)} studies ({', '.join(names) or 'none'})")
    paths = dict(zip(names, derived)) if derived is not None else \
        {name: Study(Path(root), name).result("derive", "derived") for name in names}
    files = chosen_files({k: Path(root) / v for k, v in synthesis_files(synthesis.pairs).items()}, out, "synthesize")
    # every argument checked: what the earlier synthesis wrote goes (pairs the plan no longer names among it)
    clear_synthesis(root, "that an earlier synthesis wrote")
    coded = {name: {c: v.name for c, v in book.concepts().items()} for name, book in synthesis.codebooks.items()}
    table = study_tables(synthesis.pairs, coded, study_frames(synthesis, paths), synthesis.level,
                         {name: str(path) for name, path in paths.items()})
    pooled = pooled_results(table, synthesis.level)
    leave1out, influence = sensitivity_results(table, synthesis.level)
    summary = synthesis_summary(synthesis, pooled, influence)
    written = [atomic_io.write_csv(files["studies"], table), atomic_io.write_csv(files["pooled"], pooled),
               atomic_io.write_csv(files["leave1out"], leave1out), atomic_io.write_csv(files["influence"], influence),
               atomic_io.write_text(files["summary"], summary)]
    written += write_formats(synthesis_tables(synthesis, table, pooled), files, "Synthesis across studies", list(FORMATS))
    written += synthesis_forest_plot(synthesis, table, pooled, files["forest"].with_suffix(""))
    for line in summary.splitlines()[4:]:
        log.info("%s", line.lstrip("- "))
    return written
