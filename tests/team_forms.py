"""SYNTHETIC coders' forms for the team-coding tests and the shared updated workflow run (conftest.updated_run).

Every case here is SYNTHETIC (ids synthetic_1, ...); none is a real cluster or case study.
"""

from openpyxl import load_workbook

from casemeta.cli import main

SYNTHETIC = {
    "country": "Synthetica", "cluster": "SYNTHETIC cluster (not real)",
    "market_local": 1, "market_national": 0, "market_regional": 0, "market_international": 1,
    "growth": 1, "upgrading": 0, "ee_labour": 1, "ee_suppliers": 1, "ee_customers": 0, "ee_specialisation": 0,
    "ja_learning": 1, "ja_marketing": 0, "ja_logistics": 0, "support_government": 0, "support_cluster": 1,
    "support_external": 0, "_source": "SYNTHETIC source, not a publication", "_pages": "1-2", "_coder": "alice",
}


def run(project, *args):
    return main(["--root", str(project), *map(str, args)])


def new_form(project, path, study="african_clusters", cases=5, coder="alice"):
    assert run(project, "new-case", "--study", study, "--format", "xlsx", "--out", path, "--cases", cases, "--coder", coder) == 0
    return path


def fill(path, rows):
    """Type the rows into the form's `cases` sheet as a coder would (numbers as numbers, text as text)."""
    book = load_workbook(path)
    ws = book["cases"]
    column = {ws.cell(row=2, column=c).value: c for c in range(1, ws.max_column + 1)}
    for i, row in enumerate(rows):
        for name, value in row.items():
            ws.cell(row=3 + i, column=column[name]).value = value
    book.save(path)
    return {name: ws.cell(row=2, column=c).column_letter for name, c in column.items()}


def cluster(i, **changes):
    return {"case_id": f"synthetic_{i}", **SYNTHETIC, **changes}


def two_coders(project, tmp_path):
    """Coder A and B code synthetic_1..3 and disagree in three cells; A alone codes synthetic_4."""
    a = new_form(project, tmp_path / "coder_a.xlsx", coder="alice")
    b = new_form(project, tmp_path / "coder_b.xlsx", coder="bob")
    fill(a, [cluster(1), cluster(2), cluster(3), cluster(4)])
    fill(b, [cluster(1, growth=0, _coder="bob"), cluster(2, _coder="bob", _pages="2"),
             cluster(3, ja_learning=0, support_external=1, _coder="bob")])
    return a, b
