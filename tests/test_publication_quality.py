"""Publication tables a journal takes as they are (issue 10), checked on a full run of the
african_clusters study's steps: LaTeX without overfull boxes, Excel numbers stored as numbers, a Word
caption for every table, and no internal variable or predictor-set name where a reader looks."""

from __future__ import annotations

import re
import shutil
import subprocess

import matplotlib.text
import numpy as np
import pytest
from docx import Document
from openpyxl import load_workbook

from casemeta.plan import load_plan
from casemeta.steps import exports
from casemeta.steps.pipeline import derive_study, models_study, reproduce_study
from casemeta.study import Study
from conftest import ROOT, latex_missing

FORMATS = ["csv", "markdown", "latex", "html", "docx", "xlsx"]
PLAIN_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d+)?$|^-?\d+(\.\d+)?$")  # as a reader types a number


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Every step of the study in-process, then every table and figure; figure texts are collected
    from the matplotlib figures as they are saved."""
    study = Study(ROOT, "african_clusters")
    results = tmp_path_factory.mktemp("results")
    out = results / study.name
    out.mkdir()
    derive_study(study, study.cases_path, out / "derived_cases.csv")
    reproduce_study(study, out / "derived_cases.csv", out / "reproduction.csv", out / "consistency.csv", out / "reproduction.md")
    models_study(study, out / "derived_cases.csv", out / "models", 2000, 1)
    exports.export_tables(study, results, FORMATS)
    figure_texts: dict[str, list[str]] = {}
    from casemeta.publish import figures

    save = figures._save

    def collect(fig, stem):
        figure_texts[stem.name] = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        return save(fig, stem)

    figures._save = collect
    try:
        exports.export_figures(study, results)
    finally:
        figures._save = save
    return study, out, figure_texts


@pytest.mark.skipif(bool(latex_missing()), reason=latex_missing() or "LaTeX is installed")
def test_tables_tex_compiles_with_no_overfull_box(run):
    _, out, _ = run
    compiled = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "tables.tex"], cwd=out,
                              capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    log = (out / "tables.log").read_text(encoding="latin-1")
    assert re.findall(r"^Overfull \\[hv]box.*$", log, flags=re.M) == []
    # every table is in the list of tables, numbered by LaTeX, with its label for \ref
    tables = sorted((out / "tables").glob("*.tex"))
    assert all(f"\\label{{tab:{t.stem}}}" in t.read_text() for t in tables)


def test_every_number_in_the_workbook_is_stored_as_a_number(run):
    study, out, _ = run
    book = load_workbook(out / f"{study.name}_tables.xlsx")
    assert book.sheetnames[0] == "Tables"
    assert [r[0].hyperlink.location for r in book["Tables"].iter_rows(min_row=2)] == [f"'{s}'!A1" for s in book.sheetnames[1:]]
    numbers = 0
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "B3"
        for row in sheet.iter_rows(min_row=3):
            for cell in row:
                assert not (isinstance(cell.value, str) and PLAIN_NUMBER.match(cell.value)), (sheet.title, cell.coordinate, cell.value)
                numbers += isinstance(cell.value, (int, float))
    assert numbers > 300
    # the models table: AIC of the ML model of dynamism on joint action, rounded as printed
    index = {row[1].value: row[0].value for row in book["Tables"].iter_rows(min_row=2)}
    sheet = book[index["Logistic models of dynamism (growth or upgrading)"]]
    aic = next(row for row in sheet.iter_rows() if row[0].value == "AIC")
    assert isinstance(aic[2].value, float) and aic[2].number_format == "0.00"
    # statistics right-aligned, the stub's words left-aligned and wrapped, every body cell top-aligned
    assert (aic[2].alignment.horizontal, aic[2].alignment.vertical, bool(aic[2].alignment.wrap_text)) == ("right", "top", False)
    assert (aic[0].alignment.horizontal, aic[0].alignment.vertical, aic[0].alignment.wrap_text) == ("left", "top", True)
    header = sheet[2]
    assert (header[0].alignment.vertical, header[0].border.bottom.style, header[0].font.b) == ("bottom", "thin", True)


def test_every_word_table_has_a_numbered_caption(run):
    study, out, _ = run
    doc = Document(out / f"{study.name}_tables.docx")
    captions = [p for p in doc.paragraphs if p.style.name == "Caption"]
    assert len(captions) == len(doc.tables) == len(list((out / "tables").glob("*.csv")))
    assert all("SEQ Table" in "".join(p._p.itertext()) for p in captions)
    assert [c.text.split(".")[0] for c in captions] == [f"Table {i}" for i in range(1, len(captions) + 1)]
    landscape = [s for s in doc.sections if s.page_width > s.page_height]
    assert landscape, "the wide case listing sits on a landscape page"


def _internal_names(study: Study) -> set[str]:
    """Names a reader should never see: variables and predictor sets whose label is not simply the
    name itself (`growth` labelled Growth could not be told from the word), and the workflow's model keys."""
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    names = {v.name for v in (*codebook.variables, *codebook.derived) if v.name != v.label.lower()}
    names |= {m.predictor_set for m in plan.models if m.predictor_set != m.label.lower()}
    return names


def _visible(path) -> str:
    """The text of a rendered table as a reader sees it: no markup, anchors or escapes."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = re.sub(r"<[^>]*>", " ", text)
    if path.suffix == ".tex":
        text = re.sub(r"\\(label|input|ref)\{[^}]*\}", " ", text)
    return text.replace("\\_", "_")


def test_no_internal_name_where_a_reader_looks(run):
    study, out, figure_texts = run
    names = _internal_names(study)
    assert {"dynamic", "market_orientation", "any_joint_action", "joint_action", "together"} <= names
    ids = set((out / "derived_cases.csv").read_text().split())  # the case listing's identifiers may show
    texts = {p.name: _visible(p) for p in (out / "tables").iterdir()}
    doc = Document(out / f"{study.name}_tables.docx")
    texts["docx"] = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    book = load_workbook(out / f"{study.name}_tables.xlsx")
    texts["xlsx"] = "\n".join(str(c.value) for s in book for r in s.iter_rows() for c in r if c.value is not None)
    texts.update({f"figure {k}": "\n".join(v) for k, v in figure_texts.items()})
    assert len(figure_texts) == 10  # nine cross-tab heat maps and the forest plot
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?![\w.])|\w+ ~ \w+")
    found = {where: sorted({m.group(0) for m in pattern.finditer(text) if m.group(0) not in ids})
             for where, text in texts.items()}
    assert {where: hits for where, hits in found.items() if hits} == {}


def _long_wide_table():
    import pandas as pd

    from casemeta.publish.tables import PubTable

    rows = 150
    frame = pd.DataFrame({"Case": [f"Case {i} with a longer name" for i in range(rows)],
                          "Description": ["words that wrap inside their column " * 4] * rows,
                          "Count": [str(i * 37) for i in range(rows)], "Share": [f"{i / rows:.3f}" for i in range(rows)],
                          "Model `auto` ~ x": [f"{1000 + i:,.0f}" for i in range(rows)]})
    return PubTable("long", "A long and wide table", frame, ["Note: method `auto` for y ~ x."])


def test_a_long_wide_table_breaks_across_landscape_pages_with_text_left_and_numbers_aligned(tmp_path):
    from casemeta.publish.latex import latex_document, to_latex

    tex = to_latex(_long_wide_table())
    assert tex.startswith("\\begin{landscape}") and "\\begin{longtable}" in tex and "\\endhead" in tex
    # text columns left-aligned and wrapping, numbers on siunitx's decimal point (grouping commas left to siunitx)
    assert ">{\\raggedright\\arraybackslash}p{" in tex and "S[table-format=4]" in tex and "S[table-format=1.3]" in tex
    assert "& 1036 \\\\" in tex.split("\\endlastfoot", 1)[1]
    # a backquote and a tilde print as themselves, not as an opening quote and an accent
    assert "Model \\textasciigrave{}auto\\textasciigrave{} \\texttildelow{} x" in tex
    if latex_missing():
        pytest.skip(latex_missing())
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "long.tex").write_text(tex, encoding="utf-8")
    (tmp_path / "doc.tex").write_text(latex_document([_long_wide_table()], "Long"), encoding="utf-8")
    compiled = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    log = (tmp_path / "doc.log").read_text(encoding="latin-1")
    assert re.findall(r"^Overfull \\[hv]box.*$", log, flags=re.M) == []
    assert int(re.search(r"Output written on doc\.pdf \((\d+) pages", log).group(1)) > 3


def test_word_tables_fit_their_pages(run):
    from docx.oxml.ns import qn

    study, out, _ = run
    doc = Document(out / f"{study.name}_tables.docx")
    # a section's page is given at its end: by a paragraph's w:sectPr, the last one by the body's own
    placed, waiting, index = [], [], 0
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            waiting.append(child)
        elif child.tag == qn("w:p") and child.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            placed += [(t, index) for t in waiting]
            waiting, index = [], index + 1
    placed += [(t, index) for t in waiting]
    assert len(placed) == len(doc.tables)
    for tbl, index in placed:
        section = doc.sections[index]
        width = section.page_width - section.left_margin - section.right_margin
        columns = [int(c.get(qn("w:w"))) * 635 for c in tbl.iter(qn("w:gridCol"))]  # twips to EMU
        assert sum(columns) <= width, (index, sum(columns), width)
    assert any(s.page_width > s.page_height for s in doc.sections)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm is not installed (Debian: poppler-utils)")
def test_pdf_figures_keep_long_labels_whole_at_any_font_size(tmp_path):
    """Each file is cropped with its own renderer's measure of the text: a box measured for the PNG cut the
    start off a long 14-point label in the PDF (Agg and PDF measure text differently)."""
    from PIL import Image

    from casemeta.publish.figures import _save, plt

    label = "Institutional support and government programmes for joint action in marketing and learning " * 2
    for size in (8, 14):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.set_yticks([0, 1], [label, "short"], fontsize=size)
        _save(fig, tmp_path / f"long_{size}")
        subprocess.run(["pdftoppm", "-r", "150", "-gray", "-singlefile", str(tmp_path / f"long_{size}.pdf"),
                        str(tmp_path / f"page_{size}")], check=True, capture_output=True, timeout=120)
        for image in (tmp_path / f"long_{size}.png", tmp_path / f"page_{size}.pgm"):
            grey = np.asarray(Image.open(image).convert("L"))
            ink = np.argwhere(grey < 250)
            left, right = ink[:, 1].min(), grey.shape[1] - 1 - ink[:, 1].max()
            assert left >= 5 and right >= 5, (image.name, left, right)  # ~15 px of pad (0.1 inch at 150 dpi)


def test_a_figures_png_is_its_pdf_rendered_and_matches_what_agg_draws(tmp_path):
    """A figure's PNG is rendered from its PDF (matplotlib draws the figure once): same pixel size, resolution and
    metadata as Agg's own PNG of the figure, and the same picture. Measured against Agg's drawing here: the ink
    of each (pixels darker than 128) lies within 2 pixels of the other's everywhere, and the grey levels differ
    by under 8 on average (anti-aliasing of the two renderers)."""
    from PIL import Image
    from scipy.ndimage import distance_transform_edt

    from casemeta.publish.figures import DPI, UNHINTED, _save, crop_box, plt

    def figure():
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.imshow([[3, 1, 0], [0, 2, 5]], cmap="Blues")
        for (i, j), count in np.ndenumerate([[3, 1, 0], [0, 2, 5]]):
            ax.text(j, i, f"{count}\n({100 * count // 11}%)", ha="center", va="center")
        ax.set_xticks(range(3), ["export market", "domestic", "mixed"])
        ax.set_yticks(range(2), ["dynamic", "not dynamic"])
        ax.set_title("Market orientation by dynamism (n = 11)")
        return fig

    _save(figure(), tmp_path / "ours")
    fig = figure()
    box = crop_box(fig)
    with matplotlib.rc_context(UNHINTED):
        fig.savefig(tmp_path / "agg.png", dpi=DPI, bbox_inches=box)
    plt.close(fig)
    ours, agg = Image.open(tmp_path / "ours.png"), Image.open(tmp_path / "agg.png")
    assert ours.size == agg.size and ours.info["dpi"] == agg.info["dpi"] and ours.info["Software"] == agg.info["Software"]
    a, b = (np.asarray(image.convert("L"), dtype=float) for image in (ours, agg))
    assert np.abs(a - b).mean() < 8, np.abs(a - b).mean()
    for one, other in ((a, b), (b, a)):  # every dark pixel of one is within 2 px of a dark pixel of the other
        assert distance_transform_edt(other >= 128)[one < 128].max() <= 2
    assert (tmp_path / "ours.pdf").read_bytes().startswith(b"%PDF")


def test_a_png_too_tall_for_pdfium_is_drawn_whole(tmp_path):
    """PDFium leaves blank what lies beyond ~32,000 pixels of a page (a forest plot of ~850 terms at 150 dpi); such a
    PNG is drawn by Agg, whole: a line the figure's full height (221 inches, 33,000+ pixels) is inked to its end."""
    from PIL import Image

    from casemeta.publish.figures import _save, plt

    fig = plt.figure(figsize=(1, 221))
    fig.add_artist(matplotlib.lines.Line2D([0.5, 0.5], [0.0, 1.0], transform=fig.transFigure, lw=2, color="black"))
    _save(fig, tmp_path / "tall")
    grey = np.asarray(Image.open(tmp_path / "tall.png").convert("L"))
    assert grey.shape[0] > 33_000
    rows = np.flatnonzero((grey < 128).any(axis=1))
    assert rows.min() <= 20 and rows.max() >= grey.shape[0] - 20, (rows.min(), rows.max(), grey.shape)


def test_a_transparent_figure_keeps_its_transparency_and_each_pdf_its_metadata(tmp_path):
    """savefig.transparent leaves the PNG's ground transparent, as Agg's; two PDFs of one figure each get their own
    metadata (the PDF drawn for the PNG is written only to the file it was drawn for); the figure is closed."""
    from PIL import Image

    from casemeta.publish.figures import plt, write_figure

    with matplotlib.rc_context({"savefig.transparent": True}):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1])
        write_figure(fig, {tmp_path / "a.pdf": {"Title": "first"}, tmp_path / "b.pdf": {"Title": "second"},
                           tmp_path / "a.png": None})
    alpha = np.asarray(Image.open(tmp_path / "a.png"))[..., 3]
    assert (alpha == 0).mean() > 0.5 and alpha.max() == 255
    assert b"(first)" in (tmp_path / "a.pdf").read_bytes() and b"(second)" in (tmp_path / "b.pdf").read_bytes()
    assert not plt.fignum_exists(fig.number)


def test_a_figure_whose_png_fails_is_closed_and_leaves_the_old_files(tmp_path, monkeypatch):
    from casemeta.publish import figures

    for name in ("f.png", "f.pdf"):
        (tmp_path / name).write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("PDFium failed")

    monkeypatch.setattr(figures, "rasterised_pdf", broken)
    fig, ax = figures.plt.subplots()
    with pytest.raises(RuntimeError):
        figures._save(fig, tmp_path / "f")
    assert not figures.plt.fignum_exists(fig.number)
    assert (tmp_path / "f.png").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png"]
