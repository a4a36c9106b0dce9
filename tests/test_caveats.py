"""Caveats are data: a record with a code, its variables and values, worded in one place and never read back."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from casemeta import atomic_io
from casemeta.plan import load_plan
from casemeta.publish.tables import study_tables
from casemeta.stats import caveats as cv
from casemeta.stats.caveats import Caveat
from casemeta.steps.exports import model_inputs, read_results
from casemeta.steps.pipeline import load_derived
from casemeta.study import Study

SRC = Path(__file__).resolve().parents[1] / "src" / "casemeta"


def test_a_caveat_round_trips_through_its_results_cell():
    caveat = Caveat.of("missing", ["y", "x"], scope="model", left_out=3, total=8)
    frame = pd.DataFrame({"caveats": [(caveat, Caveat.of("or_infinite")), ()]})
    cells = atomic_io.encode_caveats(frame)["caveats"].tolist()
    assert cells[1] == "" and '"code": "missing"' in cells[0]  # JSON in the CSV cell, nothing for no caveat
    assert atomic_io.read_caveats(pd.DataFrame({"caveats": [*cells, float("nan")]}))["caveats"].tolist() == [
        (caveat, Caveat.of("or_infinite")), (), ()]
    assert caveat.message() == "3 of 8 case(s) left out: y, x missing"
    assert caveat.message(str.upper) == "3 of 8 case(s) left out: Y, X missing"  # variables rendered by the labeller


def test_a_blank_statistic_prefixes_the_reason():
    caveat = Caveat.of("constant", ["x"], blank="model", role="predictor", value=1)
    assert caveat.message() == "not estimable: predictor x is 1 in every case"
    assert caveat.with_(blank="loo").message() == "LOO AUC and Brier score not computed: predictor x is 1 in every case"


def test_unknown_codes_are_refused():
    with pytest.raises(ValueError, match="unknown caveat code"):
        Caveat.of("no_such_code")


def _study_tables(project: Path, name: str):
    study = Study(project, name)
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    derived = load_derived(study.result("derive", "derived"), codebook)
    return study_tables(derived, read_results(model_inputs(study, plan)), codebook, plan)


def test_rewording_every_caveat_changes_no_cell_of_any_table(completed_run, monkeypatch):
    before = {name: _study_tables(completed_run, name) for name in ("african_clusters", "pipkin_fuentes")}
    reworded = {code: (lambda v, x, words=words: "REWORDED " + words(v, x)[::-1]) for code, words in cv.MESSAGES.items()}
    monkeypatch.setattr(cv, "MESSAGES", reworded)
    monkeypatch.setattr(cv, "BLANKS", {k: v.upper() for k, v in cv.BLANKS.items()})
    for name, tables in before.items():
        after = _study_tables(completed_run, name)
        assert [t.name for t in after] == [t.name for t in tables]
        for old, new in zip(tables, after):
            pd.testing.assert_frame_equal(old.frame, new.frame)  # every cell the same
            assert old.marks.keys() == new.marks.keys()  # the same cells carry a footnote
    # and the footnotes did follow the new words (the caveats were rendered, not copied from a file)
    marked = [t for t in after if t.marks]
    assert marked and all(any("REWORDED" in text or text.isupper() or "penalized" in text or "p-value not available" in text
                               for text in t.footnotes()) for t in marked)


def _note_reads(path: Path) -> list[str]:
    """Places that read a `note` (results column or attribute) or run a regular expression: a caveat's words
    may only be written, never read back."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "note" \
                and isinstance(node.ctx, ast.Load):
            found.append(f"{path.name}:{node.lineno} [\"note\"]")
        if isinstance(node, ast.Attribute) and node.attr in ("note", "notes") and isinstance(node.ctx, ast.Load) \
                and not (isinstance(node.value, ast.Name) and node.value.id in ("table", "t")):
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


def test_no_module_reads_a_notes_words_back():
    offenders = [hit for path in sorted(SRC.rglob("*.py")) if path.name != "caveats.py" for hit in _note_reads(path)]
    assert offenders == []


def test_the_note_check_finds_a_read(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f(row, fit):\n    a = row['note'].startswith('not pooled')\n    return fit.note\n", encoding="utf-8")
    assert sorted(_note_reads(probe)) == ["probe.py:2 [\"note\"]", "probe.py:3 .note"]


def test_the_table_builders_use_no_regular_expression():
    """Escaping and number alignment (cells, formats, latex, office) may; the builders of tables from results may not."""
    for name in ("tables.py", "synthesis_tables.py", "figures.py", "reproduction_report.py"):
        tree = ast.parse((SRC / "publish" / name).read_text(encoding="utf-8"))
        imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "re" not in imports, name
