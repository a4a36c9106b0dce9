"""The case-influence step: a study's derived cases in; the influential cases (CSV and publication table in every
format), a verdict per finding (CSV) and their sentences (case_influence.md) out.

The statistics are casemeta.stats.case_influence's, the words of the verdicts too; this module reads and writes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from casemeta import atomic_io
from casemeta.plan import load_plan
from casemeta.publish.formats import RENDERERS
from casemeta.publish.influence_tables import influence_sentences, influence_table
from casemeta.stats.case_influence import case_influence
from casemeta.steps.exports import chosen_files, require_results, write_formats
from casemeta.steps.pipeline import load_derived
from casemeta.study import INFLUENCE_TABLE, Study

log = logging.getLogger("casemeta")
TABLE_FORMATS = [*RENDERERS, "docx", "xlsx"]


def case_influence_study(study: Study, derived_path: Path | None, out: list[Path] | None, draws: int,
                         seed: int) -> list[Path]:
    """Every model and cross-tab test of the plan without each case in turn, into the files casemeta.study lists
    (`out`, where given, must name the same files). Monte Carlo tests take the main run's draws and seed."""
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    derived_path = derived_path or study.result("derive", "derived")
    require_results([derived_path])
    frame = load_derived(derived_path, codebook)
    files = chosen_files(study.files("case_influence", plan), out, "case-influence")
    log.info("%s: %d model(s) and %d cross-tab test(s), each without each of %d case(s)", study.name,
             len(plan.models), len(plan.crosstabs.pairs), len(frame))
    changes, findings = case_influence(frame, plan, codebook, draws, seed)
    written = [atomic_io.write_csv(files["changes"], changes),
               atomic_io.write_csv(files["findings"], findings.assign(changes=[json.dumps([list(pair) for pair in c]) for c in findings["changes"]]))]
    table = influence_table(changes, codebook, plan, INFLUENCE_TABLE)
    written += write_formats([table], files, table.title, TABLE_FORMATS)
    lines = [f"# {codebook.title}: case influence", "",
             f"Each finding without each of the {len(frame)} case(s) in turn (`{study.relative(files['changes'])}` lists "
             "the cases that change one).", ""]
    lines += [f"- {text}" for text in influence_sentences(findings, codebook, plan)]
    written.append(atomic_io.write_text(files["report"], "\n".join(lines) + "\n"))
    return written
