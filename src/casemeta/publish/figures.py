"""Figures: a heat map of each cross-tab with its counts, and forest plots of odds ratios."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from casemeta import atomic_io  # noqa: E402
from casemeta.coded.codebook import Codebook  # noqa: E402
from casemeta.publish.reproducible import figure_metadata  # noqa: E402
from casemeta.publish.tables import crosstab_counts, plotted_terms, term_label  # noqa: E402

# The forest plot's axis: odds ratios beyond it (infinite ones under separation, or huge Firth limits)
# are drawn at its edge with an arrow head pointing outwards.
AXIS = (1e-3, 1e5)
DPI = 150  # of the PNG files


PAD = 0.1  # inches of margin around what is drawn (savefig's pad_inches)
# Text is measured and drawn without hinting, so that Agg measures it as the PDF backend does (unhinted glyph
# outlines, scaled linearly): one tight box, measured once, then crops the PNG and the PDF alike. With matplotlib's
# default hinting, Agg snaps glyph advances to its pixel grid and a long label measured up to ~14 pt shorter than
# in the PDF, which a box shared with the PNG then cut off.
UNHINTED = {"text.hinting": "no_hinting"}
# zlib level 3 rather than Pillow's 6: half the time of encoding a figure's PNG, for files ~4% larger
SAVE_OPTIONS = {"png": {"pil_kwargs": {"compress_level": 3}}}


def crop_box(fig):
    """What the figure draws, plus PAD on each side, in inches: measured once by Agg at the PNG's resolution.

    savefig's bbox_inches="tight" draws each file twice (a dry run to measure, then the drawing) and measures
    again for every format; a measured box handed to savefig draws each file once."""
    with matplotlib.rc_context(UNHINTED):
        fig.set_dpi(DPI)
        return fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD)


def fixed_layout(fig, engine):
    """Lay the figure out once with `engine` (a matplotlib LayoutEngine), measuring text as crop_box does, and
    keep that layout: the engine is not attached to the figure. Returns the renderer that measured it."""
    with matplotlib.rc_context(UNHINTED):
        fig.set_dpi(DPI)
        renderer = fig.canvas.get_renderer()
        engine.execute(fig)
        for ax in fig.axes:  # as drawing would: an axes of fixed aspect shrinks inside the place laid out
            ax.apply_aspect()
    return renderer


# PDFium draws nothing beyond about 32,000 device pixels in either direction (the rest of a larger bitmap stays
# blank); Agg draws up to 65,535. A PNG larger than this is drawn by Agg.
PDFIUM_MAX_PIXELS = 30_000


def write_figure(fig, files: dict[Path, dict | None]) -> list[Path]:
    """The figure to each file (format by suffix; value: savefig's metadata), atomically, cropped to crop_box;
    then the figure is closed, whatever happened. With a PDF among the files, a PNG is that PDF rendered
    (rasterised_pdf), so that matplotlib draws the figure once rather than once per format."""
    try:
        box = crop_box(fig)
        size = (int(box.width * DPI), int(box.height * DPI))  # Agg's canvas: whole pixels, truncated
        pdf = next((path for path in files if path.suffix.lower() == ".pdf"), None)
        render = pdf is not None and max(size) <= PDFIUM_MAX_PIXELS and any(
            path.suffix.lower() == ".png" for path in files)
        with matplotlib.rc_context(UNHINTED):
            drawn = None
            if render:
                buffer = io.BytesIO()
                fig.savefig(buffer, format="pdf", dpi=DPI, bbox_inches=box, metadata=files[pdf])
                drawn = buffer.getvalue()
            for path, metadata in files.items():
                ext = path.suffix.lstrip(".").lower()
                if drawn is not None and path == pdf:
                    atomic_io.write_bytes(path, drawn)
                elif drawn is not None and ext == "png":
                    atomic_io.atomic_write(path, lambda tmp, metadata=metadata: rasterised_pdf(drawn, tmp, size, metadata))
                else:  # another format, another PDF (its own metadata), or a PNG too large for PDFium
                    atomic_io.atomic_write(path, lambda tmp, ext=ext, metadata=metadata: fig.savefig(
                        tmp, format=ext, dpi=DPI, bbox_inches=box, metadata=metadata, **SAVE_OPTIONS.get(ext, {})))
    finally:
        plt.close(fig)
    return list(files)


def rasterised_pdf(pdf: bytes, path: Path, size: tuple[int, int], metadata: dict | None = None) -> None:
    """The first page of a PDF as an RGBA PNG of `size` pixels at DPI (what PDFium draws beyond PDFIUM_MAX_PIXELS is
    blank), on a transparent ground as Agg's (a figure whose background is not opaque stays so), with savefig's PNG
    metadata (Software: matplotlib's version unless `metadata` says otherwise; a None value leaves a key out).

    PDFium (pypdfium2) renders the page in ~10 ms where Agg's drawing of the same figure takes ~35 ms: matplotlib's
    cost is its walk over the figure's artists, done once per format, and this way it is done once for both. Text
    comes out as in the PDF (both unhinted, see UNHINTED), so the PNG shows what the PDF prints."""
    import pypdfium2
    from PIL.PngImagePlugin import PngInfo

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=DPI / 72, fill_color=(255, 255, 255, 0)).to_pil()
    finally:
        document.close()
    if image.mode != "RGBA":
        image = image.convert("RGBA")
    if image.size != size:  # PDFium counts a partly covered last pixel, Agg leaves it out
        image = image.crop((0, 0, *size))
    info = PngInfo()
    for key, value in ({"Software": f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/"}
                       | (metadata or {})).items():
        if value is not None:
            info.add_text(key, value)
    image.save(path, format="png", dpi=(DPI, DPI), pnginfo=info, **SAVE_OPTIONS["png"]["pil_kwargs"])


def _save(fig, stem: Path) -> list[Path]:
    """The figure as PNG and PDF, each cropped to what is drawn (write_figure). The PDF's creation date is the
    build date (`casemeta.publish.reproducible`), so that the same results give the same bytes."""
    return write_figure(fig, {stem.with_suffix(f".{ext}"): figure_metadata(ext) for ext in ("png", "pdf")})


def plain_log_ticks(axis, low: float, high: float) -> None:
    """A log-scale axis from `low` to `high` ticked as a reader writes odds ratios: 0.1, 1, 10 (and 0.2, 0.5, 2, 5
    where the axis spans under three powers of ten), no minor ticks. matplotlib's default writes 10^k in mathtext
    (parsed by pyparsing, the slowest part of drawing such an axis) and labels minor ticks on a short axis."""
    narrow = np.log10(high / low) < 3
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if narrow else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def nothing_to_draw(text: str, stem: Path) -> list[Path]:
    """A figure the workflow declares but the results cannot fill (no cases yet, no term estimated) says why:
    the text alone, so that the tight crop keeps savefig's margin around it."""
    fig = plt.figure(figsize=(6, 0.8))
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    return _save(fig, stem)


def crosstab_heatmap(part: pd.DataFrame, codebook: Codebook, stem: Path, condition: str) -> list[Path]:
    """Share of each condition category reaching each outcome, among the category's cases with a known
    outcome, with k/n written in: every share divides by its own n."""
    if part.empty or not int(pd.to_numeric(part["count"], errors="coerce").fillna(0).sum()):
        return nothing_to_draw(f"{codebook.label(condition)}: no coded case yet", stem)
    counts = crosstab_counts(part)
    outcomes = counts.attrs["outcomes"]
    yes = counts[outcomes].to_numpy(dtype=float)
    total = counts[[f"{o}:n" for o in outcomes]].to_numpy(dtype=float)
    share = np.divide(yes, total, out=np.full_like(yes, np.nan), where=total > 0)  # no case with a known outcome: no share
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(outcomes), 0.9 + 0.45 * len(counts)))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(counts)):
        for j in range(len(outcomes)):
            ax.text(j, i, f"{int(yes[i, j])}/{int(total[i, j])}", ha="center", va="center",
                    color="white" if share[i, j] > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(outcomes)), [codebook.label(o) for o in outcomes], rotation=20, ha="right")
    ax.set_yticks(range(len(counts)), counts["label"])
    ax.set_ylabel(codebook.label(condition))
    fig.colorbar(image, ax=ax, label="share with outcome (of cases with a known outcome)")
    n = int(counts["N"].sum())
    ax.set_title(f"{codebook.label(condition)}: cases with each outcome (N = {n})", fontsize=10)
    return _save(fig, stem)


def forest_plot(models: pd.DataFrame, codebook: Codebook, stem: Path, model_labels: dict | None = None) -> list[Path]:
    """Odds ratios with 95% intervals on a log scale, one line per model and term; a model is named by
    `model_labels` ((outcome, predictor set) -> its outcome and predictor set as a reader knows them),
    never by its internal name. With no term estimated, the figure says so."""
    rows = plotted_terms(models)
    model_labels = model_labels or {}
    if rows.empty:
        return nothing_to_draw("No model term could be estimated (see the models' table for why).", stem)
    keys = zip(rows["outcome"], rows["predictor_set"]) if "predictor_set" in rows.columns else zip(rows["model"], rows["model"])
    labels = [f"{model_labels.get(k, k[0])} (n = {int(n)}): {term_label(t, codebook)}"
              for k, t, n in zip(keys, rows["term"], rows["n"])]
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.32 * len(rows)))
    y = np.arange(len(rows))[::-1]
    colors = ["tab:red" if m == "firth" else "tab:blue" for m in rows["method"]]
    values = {c: pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float) for c in ("odds_ratio", "or_ci_low", "or_ci_high")}
    low, high, est = (np.clip(values[c], *AXIS) for c in ("or_ci_low", "or_ci_high", "odds_ratio"))
    ax.hlines(y, low, high, colors=colors)  # a blank interval draws no line
    ax.scatter(est, y, c=colors, zorder=3, s=18)
    stacked = np.column_stack(list(values.values()))  # NaN compares False: a blank is never "beyond"
    below, above = (stacked < AXIS[0]).any(axis=1), (stacked > AXIS[1]).any(axis=1)
    ax.scatter(np.full(below.sum(), AXIS[0]), y[below], marker="<", c="black", zorder=4, s=24)
    ax.scatter(np.full(above.sum(), AXIS[1]), y[above], marker=">", c="black", zorder=4, s=24)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    drawn = np.concatenate([[1.0], *(v[np.isfinite(v)] for v in (low, high, est))])
    plain_log_ticks(ax.xaxis, drawn.min(), drawn.max())
    ax.set_yticks(y, labels, fontsize=8)
    beyond = f"; arrow heads: beyond {AXIS[0]:g} or {AXIS[1]:g}" if (below | above).any() else ""
    ax.set_xlabel(f"odds ratio (95% interval, log scale{beyond})")
    ax.set_title("Logistic models: red = Firth (cases separate), blue = ML", fontsize=10)
    return _save(fig, stem)


def _forest_rows(synthesis, studies: pd.DataFrame, pooled: pd.DataFrame) -> list[dict]:
    """The lines of the synthesis forest plot, top to bottom: a header per pair of concepts, its
    studies with cases, then its pooled diamonds, or the reason it was not pooled."""
    from casemeta.stats.pooling import METHOD_LABELS

    rows = []
    for condition, outcome in synthesis.pairs:
        def pick(f):
            return f[(f["condition"] == condition) & (f["outcome"] == outcome)]
        rows.append({"kind": "header", "label": f"{synthesis.label(condition)} → {synthesis.label(outcome)}"})
        for r in pick(studies).itertuples():
            if pd.notna(r.n) and r.n > 0:
                rows.append({"kind": "study", "label": f"{synthesis.study_title(r.study)} (n = {int(r.n)})",
                             "values": (r.odds_ratio, r.or_ci_low, r.or_ci_high)})
        by = pick(pooled).set_index("method")
        if not by["odds_ratio"].notna().any():
            rows.append({"kind": "text", "label": "fewer than 2 studies hold cases: not pooled"})
            continue
        for method in synthesis.diamonds:
            r = by.loc[method]
            rows.append({"kind": "pooled", "label": METHOD_LABELS[method], "values": (r.odds_ratio, r.or_ci_low, r.or_ci_high)})
    return rows


def _diamond(ax, y: float, est: float, low: float, high: float) -> None:
    ax.fill([low, est, high, est], [y, y + 0.3, y, y - 0.3], color="black", zorder=3)


def synthesis_forest_plot(synthesis, studies: pd.DataFrame, pooled: pd.DataFrame, stem: Path) -> list[Path]:
    """Each study's odds ratio and interval per pair of concepts, with the pooled estimates as diamonds."""
    rows = _forest_rows(synthesis, studies, pooled)
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.34 * len(rows)))
    ys = np.arange(len(rows))[::-1].astype(float)
    beyond, shown = False, [1.0]
    for y, row in zip(ys, rows):
        if row["kind"] in ("header", "text"):
            continue
        raw = np.array([np.nan if v is None else float(v) for v in row["values"]])
        est, low, high = np.clip(raw, *AXIS)
        beyond |= bool(((raw < AXIS[0]) | (raw > AXIS[1])).any())
        shown += [v for v in (est, low, high) if not np.isnan(v)]
        if row["kind"] == "study":
            ax.hlines(y, low, high, colors="tab:blue")
            ax.scatter([est], [y], marker="s", c="tab:blue", zorder=3, s=22)
        elif not np.isnan(low) and not np.isnan(high):
            _diamond(ax, y, est, low, high)
        else:
            ax.scatter([est], [y], marker="D", c="black", zorder=3, s=22)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    left, right = max(AXIS[0], min(shown) / 2), min(AXIS[1], max(shown) * 2)
    ax.set_xlim(left, right)  # set: no data, no log-scale warning
    plain_log_ticks(ax.xaxis, left, right)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_yticks(ys, [r["label"] for r in rows], fontsize=8)
    for tick, row in zip(ax.get_yticklabels(), rows):
        tick.set_fontweight("bold" if row["kind"] == "header" else "normal")
        tick.set_fontstyle("italic" if row["kind"] == "text" else "normal")
    ax.set_xlabel(f"odds ratio ({round(100 * synthesis.level)}% interval, log scale; values beyond the axis drawn at its edge)"
                  if beyond else f"odds ratio ({round(100 * synthesis.level)}% interval, log scale)")
    ax.set_title("Synthesis across studies: squares = studies, diamonds = pooled", fontsize=10)
    return _save(fig, stem)
