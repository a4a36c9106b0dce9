"""The multiverse step: a study's validated cases in, each chunk's universes analysed (one process per chunk),
then the chunks gathered into the robustness results, summary tables in every format and robustness.md.

The statistics are casemeta.stats.multiverse's; a universe's data are casemeta.coded.universes'.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.case_table import read_typed
from casemeta.coded.universes import drop_excluded, universe_frame
from casemeta.errors import CasemetaError
from casemeta.plan import Plan, load_plan
from casemeta.steps.exports import chosen_files, require_results, write_formats
from casemeta.study import CHUNK_FILES, Study

log = logging.getLogger("casemeta")
FLOAT_FORMAT = "%.12g"  # the gathered results: fixed digits, so a file's bytes follow its numbers
TABLE_FORMATS = ["csv", "markdown", "latex", "html", "docx", "xlsx"]


def robustness_plan(study: Study) -> tuple:
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    if not plan.robustness.multiverse:
        raise CasemetaError(f"{study.plan_path}: no `robustness: decisions:`; no multiverse to run (README \"Robustness\")")
    return codebook, plan


@contextlib.contextmanager
def _rarer_collections(threshold: int = 50_000):
    """Python's cyclic garbage collector run less often while universes are analysed: the memo of fits grows
    to tens of thousands of live objects, which collections every 700 allocations (the default) traverse again
    and again (512 universes in one process: about 7% faster so, measured once; on 1,024 the difference was
    within the runs' noise). Cycles are still collected, only in larger batches; the thresholds are restored
    afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(threshold, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_universes(cases: pd.DataFrame, plan: Plan, codebook, numbers: list[int] | None = None, draws: int = 100_000,
                  seed: int = 20150827, source: str | None = None) -> dict[str, pd.DataFrame]:
    """The universes (all, or those numbered), each analysed: {universes, specifications, crosstab_specifications,
    null_draws}, every row led by its universe and one column per decision. `draws` and `seed`: the cross-tabs'
    Monte Carlo tests, as the models step runs them."""
    from threadpoolctl import threadpool_limits

    from casemeta.stats import multiverse as mv

    robustness = plan.robustness
    names = [d.name for d in robustness.decisions]
    chosen = [u for u in mv.universes(robustness) if numbers is None or u.number in numbers]
    memo, derived = mv.Memo(), {}
    uniforms = mv.case_uniforms(list(cases[codebook.id_column]), robustness.draws, robustness.seed)
    source = source or codebook.study
    parts: dict[str, list] = {key: [] for key in CHUNK_FILES}
    started = time.perf_counter()
    # one thread: BLAS threads on matrices this small only contend, and chunks run side by side
    with threadpool_limits(1), _rarer_collections():
        for universe in chosen:
            merged = mv.merged(universe)
            # the data of universes with the same rules differ only by the cases they leave out: derived once
            rules = repr((sorted(merged["coded"].items()), sorted(merged["derived"].items())))
            if rules not in derived:
                derived[rules] = universe_frame(cases, codebook, merged["derived"], merged["coded"], (),
                                                f"{plan.path}: universe {universe.number}")
            frame = drop_excluded(derived[rules], tuple(merged["exclude"]), f"{plan.path}: universe {universe.number}")
            models = mv.universe_models(plan, universe)
            specs, fits = mv.model_specifications(frame, models, source, memo)
            tests = mv.crosstab_specifications(frame, plan, codebook, draws, seed, memo)
            nulls = mv.null_draws(fits, codebook.id_column, uniforms, source, memo) if robustness.draws else \
                pd.DataFrame(columns=mv.NULL_FIELDS)
            lead = {"universe": universe.number, **dict(zip(names, universe.choices))}
            parts["universes"].append(pd.DataFrame([{**lead, "n_cases": len(frame)}]))
            for key, table in (("specifications", specs), ("crosstab_specifications", tests), ("null_draws", nulls)):
                parts[key].append(_led(table, lead))
    log.info("%d universe(s) in %.1f s (%d distinct fits and tests)", len(chosen), time.perf_counter() - started, len(memo))
    columns = {"universes": ["universe", *names, "n_cases"], "specifications": ["universe", *names, *mv.SPEC_FIELDS],
               "crosstab_specifications": ["universe", *names, *mv.CROSSTAB_FIELDS],
               "null_draws": ["universe", *mv.NULL_FIELDS]}
    return {key: pd.concat(parts[key], ignore_index=True).reindex(columns=columns[key]) if parts[key]
            else pd.DataFrame(columns=columns[key]) for key in CHUNK_FILES}


def _led(table: pd.DataFrame, lead: dict) -> pd.DataFrame:
    table = table.copy()
    for i, (column, value) in enumerate(lead.items()):
        table.insert(i, column, value)
    return table


def robustness_chunk(study: Study, cases_path: Path | None, index: int, chunks: int, out: list[Path] | None,
                     draws: int, seed: int) -> list[Path]:
    """Chunk `index` of `chunks`: its universes analysed into its four files (casemeta.study lists them)."""
    from casemeta.stats.multiverse import chunk, chunk_order

    codebook, plan = robustness_plan(study)
    if chunks != plan.robustness.chunks:
        raise CasemetaError(f"--chunks {chunks}: the plan {study.plan_path} splits the universes into "
                            f"{plan.robustness.chunks} chunks (robustness/chunks)")
    if not 1 <= index <= chunks:
        raise CasemetaError(f"--chunk {index}: expected a chunk from 1 to {chunks}")
    files = chosen_files({k.split("/", 1)[1]: p for k, p in study.chunk_files(plan, index).items()}, out, "robustness")
    cases_path = cases_path or study.result("validate", "validated")
    require_results([cases_path])
    cases = read_typed(cases_path, codebook)  # validate's copy, read with its types: validated once, not per universe
    numbers = sorted(u.number for u in chunk(chunk_order(plan, codebook), index, chunks))
    shown = ", ".join(map(str, numbers[:12])) + (", ..." if len(numbers) > 12 else "")  # not contiguous (chunk_order)
    log.info("%s: chunk %d of %d: %d universe(s)%s", study.name, index, chunks, len(numbers), f": {shown}" if numbers else "")
    found = run_universes(cases, plan, codebook, numbers, draws, seed, study.name)
    # full precision (repr): the gather job reads them back exactly
    return [atomic_io.write_csv(files[key], found[key]) for key in CHUNK_FILES]


def read_chunk(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"term": str, "notes": str, "test": str,
                                                                 "method": str, "outcome": str, "condition": str},
                       keep_default_na=False, na_values=[""])


def gather(study: Study, chunk_paths: list[Path] | None, out: list[Path] | None) -> list[Path]:
    """The chunks merged (sorted by universe) into the robustness results, the summaries, their tables in every
    format and robustness.md (casemeta.study lists them)."""
    from casemeta.publish.robustness_tables import report, robustness_tables
    from casemeta.stats import multiverse as mv

    codebook, plan = robustness_plan(study)
    robustness = plan.robustness
    expected = {k: p for i in range(1, robustness.chunks + 1) for k, p in study.chunk_files(plan, i).items()}
    given = chosen_files(expected, chunk_paths, "robustness-gather")
    require_results(given.values())
    files = chosen_files(study.files("robustness", plan), out, "robustness-gather")
    names = [d.name for d in robustness.decisions]
    merged = {}
    for key in CHUNK_FILES:
        parts = [read_chunk(p) for k, p in given.items() if k.split("/", 1)[1] == key]
        # a chunk with no universe (more chunks than universes) reads back as text columns: left out, so
        # that the merged numbers keep their type (and their written format) whatever the chunking
        frame = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
        merged[key] = frame.sort_values("universe", kind="stable").reset_index(drop=True)
    if len(merged["universes"]) != robustness.size or list(merged["universes"]["universe"]) != list(range(1, robustness.size + 1)):
        raise CasemetaError(f"{study.name}: the chunks hold universes {len(merged['universes'])} of {robustness.size}; "
                            "rerun the chunk jobs (snakemake does)")
    summary = mv.summarize(merged["specifications"], names)
    inference = mv.curve_inference(merged["specifications"], merged["null_draws"], robustness.draws, robustness.seed)
    crosstab_summary = mv.summarize_crosstabs(merged["crosstab_specifications"], names)
    written = [atomic_io.write_csv(files[key], frame, float_format=FLOAT_FORMAT) for key, frame in (
        ("universes", merged["universes"]), ("specifications", merged["specifications"]),
        ("crosstab_specifications", merged["crosstab_specifications"]), ("summary", summary),
        ("crosstab_summary", crosstab_summary), ("inference", inference))]
    labels = {d.name: d.label for d in robustness.decisions}
    tables = robustness_tables(summary, inference, crosstab_summary, codebook, labels, robustness.size,
                               robustness.draws, robustness.seed)
    table_files = {k: p for k, p in files.items() if k.rsplit(".", 1)[0] in {t.name for t in tables} or k in ("latex", "docx", "xlsx")}
    written += write_formats(tables, table_files, f"{codebook.title}: robustness", TABLE_FORMATS)
    written.append(atomic_io.write_text(files["report"], report(codebook.title, summary, inference, crosstab_summary,
                                                                codebook, labels, merged["universes"])))
    written.append(_curves(merged["specifications"], robustness, plan, codebook, files["curves"]))
    return written


def _curves(specifications, robustness, plan, codebook, path):
    """The specification curve of every model term, a page each, labelled from the plan and the codebook."""
    from casemeta.publish.specification_figures import write_curve_pages
    from casemeta.publish.tables import term_label

    labels = {d.name: d.label for d in robustness.decisions}
    labels.update({f"{d.name}/{o.name}": o.label for d in robustness.decisions for o in d.options})
    models = {m.name: m for m in plan.models}
    titles = {(model, term): f"{codebook.label(models[model].outcome)} by {models[model].label}: {term_label(term, codebook)}"
              for model, term in zip(specifications["model"], specifications["term"]) if model in models}
    return write_curve_pages(specifications, [d.name for d in robustness.decisions], labels, path, titles)
