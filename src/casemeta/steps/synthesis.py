"""The synthesis across studies: every study's derived cases in, results/synthesis/ out.

For each (condition, outcome) pair of concepts in analysis/synthesis.yaml, each
study whose codebook codes both gives a 2×2 table (study_tables.csv); where at
least 2 studies hold cases the tables are pooled (pooled.csv, one row per pair
and method); then publication tables in every format and a forest plot.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.publish.formats import FORMATS
from casemeta.errors import CasemetaError
from casemeta.stats.caveats import Caveat, attach, column, complete_cases, merge
from casemeta.stats.pooling import COLUMNS, EXTRA, METHODS, pool, study_odds_ratio
from casemeta.stats.strata_tables import COUNTS, tables_from_cases
from casemeta.steps.exports import chosen_files, require_results, write_formats
from casemeta.steps.pipeline import load_derived
from casemeta.study import Study, synthesis_files
from casemeta.synthesis import Synthesis, load_synthesis

log = logging.getLogger("casemeta")
PAIR = ["condition", "outcome"]
STUDY_COLUMNS = [*PAIR, "study", "condition_variable", "outcome_variable", "n", *COUNTS,
                 "odds_ratio", "or_ci_low", "or_ci_high", "interval", "note", "caveats"]
POOLED_COLUMNS = [*PAIR, "studies", *COLUMNS, *EXTRA]


def _study_row(synthesis: Synthesis, derived: dict[str, Path], condition: str, outcome: str, name: str) -> dict:
    codebook = synthesis.codebooks[name]
    coded = codebook.concepts()
    row = {"condition": condition, "outcome": outcome, "study": name}
    missing = [c for c in (condition, outcome) if c not in coded]
    if missing:
        return {**row, "caveats": (Caveat.of("concept_not_coded", concepts=missing),)}
    x, y = coded[condition].name, coded[outcome].name
    require_results([derived[name]])
    cases = load_derived(derived[name], codebook).assign(_study=name)
    table = tables_from_cases(cases, "_study", x, y, str(derived[name]))
    counts = {c: int(table[c].sum()) for c in COUNTS}
    n = sum(counts.values())
    _, left_out = complete_cases(cases, [x, y])
    row.update(condition_variable=x, outcome_variable=y, n=n, **counts)
    if not len(cases):
        return {**row, "caveats": (Caveat.of("no_cases_yet"),)}
    found = study_odds_ratio(*counts.values(), level=synthesis.level)
    return {**row, **found, "caveats": merge(left_out, found["caveats"])}


def study_tables(synthesis: Synthesis, derived: dict[str, Path]) -> pd.DataFrame:
    """One row per pair and study: the study's 2×2 table and odds ratio, or why it has none."""
    rows = [_study_row(synthesis, derived, c, o, name) for c, o in synthesis.pairs for name in synthesis.codebooks]
    caveats = [r.pop("caveats", ()) for r in rows]
    return attach(pd.DataFrame(rows), caveats).reindex(columns=STUDY_COLUMNS).astype({c: "Int64" for c in ("n", *COUNTS)})


def not_pooled_reason(part: pd.DataFrame) -> Caveat:
    """Why a pair is not pooled: which studies hold cases, which have none yet, which lack a concept."""
    coding, cases = part["condition_variable"].notna(), part["n"].fillna(0) > 0
    groups = {"cases in": part.loc[coding & cases, "study"],
              "no cases yet in": part.loc[coding & ~cases, "study"],
              "not coding both concepts": part.loc[~coding, "study"]}
    said = "; ".join(f"{what}: {', '.join(names)}" for what, names in groups.items() if len(names))
    return Caveat.of("not_pooled", held=said or "no study")


def pooled_results(synthesis: Synthesis, studies: pd.DataFrame) -> pd.DataFrame:
    """One row per pair and method; a pair with fewer than 2 studies holding cases says so in every row."""
    frames = []
    for (condition, outcome), part in studies.groupby(PAIR, sort=False):
        held = part[part["condition_variable"].notna() & (part["n"].fillna(0) > 0)]
        if len(held) >= 2:
            found = pool(held.rename(columns={"study": "stratum"})[["stratum", *COUNTS]], synthesis.level)
        else:
            found = attach(pd.DataFrame({"method": METHODS, "k": len(held)}), [(not_pooled_reason(part),)] * len(METHODS))
        frames.append(found.assign(condition=condition, outcome=outcome, studies=", ".join(held["study"])))
    return pd.concat(frames, ignore_index=True).reindex(columns=POOLED_COLUMNS).astype({"df": "Int64", "k": "Int64"})


def synthesis_summary(synthesis: Synthesis, pooled: pd.DataFrame) -> str:
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
                         f"{mh['odds_ratio']:.3g} [{mh['or_ci_low']:.3g}, {mh['or_ci_high']:.3g}]")
    return "\n".join([*lines, ""])


def synthesize(root: Path, studies: list[str] | None = None, derived: list[Path] | None = None,
               out: list[Path] | None = None) -> list[Path]:
    """Write every synthesis result: the files casemeta.study.synthesis_files lists (`out`, where given, must
    name the same files), from each study's derived cases (`derived`, in the order of `studies`)."""
    from casemeta.publish.figures import synthesis_forest_plot  # matplotlib loads only here
    from casemeta.publish.synthesis_tables import synthesis_tables

    synthesis = load_synthesis(root, studies)
    names = list(synthesis.codebooks)
    if derived is not None and len(derived) != len(names):
        raise CasemetaError(f"--derived names {len(derived)} file(s) for {len(names)} studies ({', '.join(names) or 'none'})")
    paths = dict(zip(names, derived)) if derived is not None else \
        {name: Study(Path(root), name).result("derive", "derived") for name in names}
    files = chosen_files({k: Path(root) / v for k, v in synthesis_files(synthesis.pairs).items()}, out, "synthesize")
    table = study_tables(synthesis, paths)
    pooled = pooled_results(synthesis, table)
    written = [atomic_io.write_csv(files["studies"], table), atomic_io.write_csv(files["pooled"], pooled),
               atomic_io.write_text(files["summary"], synthesis_summary(synthesis, pooled))]
    written += write_formats(synthesis_tables(synthesis, table, pooled), files, "Synthesis across studies", list(FORMATS))
    written += synthesis_forest_plot(synthesis, table, pooled, files["forest"].with_suffix(""))
    for line in synthesis_summary(synthesis, pooled).splitlines()[4:]:
        log.info("%s", line.lstrip("- "))
    return written
