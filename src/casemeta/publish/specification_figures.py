"""The specification curve of one model term across the universes of a multiverse, drawn as specr draws it.

specr's plot_specs (R/plot_curve.r, R/plot_choices.r, R/generics.r and format_results in R/helpers.R,
masurp/specr): the estimates sorted from lowest to highest (a stable sort, as dplyr::arrange), each with its
interval, coloured by where the interval lies relative to the null: above it blue (#377eb8), below it red
(#e41a1c), spanning it (or no interval) dark grey; beneath, specr's choice panels, a bar at the option each
universe took, in the universe's colour (drawn as one axes: a row per option, the decisions apart by a line and
named in bold left of their options; an axes per decision cost a third of the page's drawing).

Odds ratios on a log scale rather than log-odds: the study's tables print odds ratios
(publication.model_display), and on a log scale an odds ratio's interval is as symmetric about 1 as the
log-odds interval about 0, so the curve has the shape specr gives the estimates while its axis reads in the
tables' unit. `odds=False` draws the log-odds (null 0) instead. Odds ratios beyond AXIS (an infinite estimate
under separation, a huge Firth limit) are drawn at its edge with an arrow head, as the forest plots do.

Files are byte-identical across runs of the same input: no creation date or software version in the PDF or
PNG metadata (`save`), no randomness in the drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.ticker import NullLocator

from casemeta import atomic_io
from casemeta.errors import CasemetaError
from casemeta.publish.figures import AXIS, DPI, UNHINTED, crop_box, plain_log_ticks, plt, write_figure

# specr's colours (format_results): interval above the null, below it, spanning it
ABOVE, BELOW, SPANS = "#377eb8", "#e41a1c", "darkgrey"
SIDE_COLOURS = {"above": ABOVE, "below": BELOW, "spans": SPANS}
SPEC_COLUMNS = ["universe", "model", "outcome", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "method",
                "n", "notes"]
# no date and no software version: the same input gives the same bytes (matplotlib's savefig metadata)
MAX_WIDTH = 14.0  # inches: beyond ~100 universes the curve is drawn denser, not wider
METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}


def interval_side(ci_low: float, ci_high: float) -> str:
    """Where a log-odds interval lies relative to 0 (an odds ratio's relative to 1): above, below or spans
    (an interval with a blank limit cannot be placed: spans, as specr's case_when leaves it grey)."""
    if ci_low > 0:
        return "above"
    if ci_high < 0:
        return "below"
    return "spans"


def curve_rows(specifications: pd.DataFrame, model: str, term: str) -> pd.DataFrame:
    """The universes' rows of one term with an estimate, sorted by estimate (ties in the universes' order),
    with `side` and `position` (1, 2, ... along the curve)."""
    rows = specifications[(specifications["model"] == model) & (specifications["term"] == term)]
    rows = rows[pd.to_numeric(rows["estimate"], errors="coerce").notna()].copy()
    rows = rows.sort_values("estimate", kind="mergesort")  # stable: equal estimates keep the universes' order
    rows["side"] = [interval_side(lo, hi) for lo, hi in zip(rows["ci_low"].astype(float), rows["ci_high"].astype(float))]
    rows["position"] = np.arange(1, len(rows) + 1)
    return rows


def option_order(specifications: pd.DataFrame, decision: str) -> list[str]:
    """A decision's options in the order the universes first take them (the first: the study's own coding)."""
    return list(dict.fromkeys(specifications.sort_values("universe", kind="mergesort")[decision].astype(str)))


def specification_curve_figure(specifications: pd.DataFrame, decisions: list[str], model: str, term: str,
                               labels: Mapping[str, str], odds: bool = True, title: str | None = None):
    """The specification curve of `term` in `model`: a matplotlib Figure (not saved).

    `specifications`: specifications.csv's columns (SPEC_COLUMNS and one column per decision, holding the
    option's name). `labels`: what a reader sees, from the plan: labels[decision] for a decision,
    labels[f"{decision}/{option}"] for an option; a name without a label is shown as it is."""
    return CurvePages(specifications, decisions, labels, odds).figure(model, term, title)


class CurvePages:
    """Specification curves of one multiverse, drawn one after another on one figure. What the curves of one
    size (number of universes drawn) share is drawn once: the axes, the options' rows, the decisions' names, the
    legend, the null line. Each curve's intervals, points, bars, axis range and labels replace the last one's.
    Built anew, each page spent about a third of its time building what it shares with the others.

    Log-odds (`odds=False`) get a figure per curve: their axis is scaled to the points drawn, and matplotlib's
    data limits keep the points of a curve taken away."""

    def __init__(self, specifications: pd.DataFrame, decisions: list[str], labels: Mapping[str, str], odds: bool = True):
        missing = [c for c in [*SPEC_COLUMNS[:8], *decisions] if c not in specifications.columns]
        if missing:
            raise CasemetaError(f"specifications: no column {', '.join(map(repr, missing))}; expected the columns of "
                                f"specifications.csv ({', '.join(SPEC_COLUMNS)} and one per decision)")
        self.specifications, self.decisions, self.labels, self.odds = specifications, decisions, labels, odds
        self.options = {d: option_order(specifications, d) for d in decisions}
        self.fig, self.size, self.drawn = None, None, []

    def figure(self, model: str, term: str, title: str | None = None):
        """The figure with the curve of `term` in `model` drawn (the same Figure as before where the size allows)."""
        return self.draw(curve_rows(self.specifications, model, term), model, term, title)

    def draw(self, rows: pd.DataFrame, model: str, term: str, title: str | None = None):
        """`figure`, from the term's curve_rows when the caller has them already."""
        specs = self.specifications
        blank = int(((specs["model"] == model) & (specs["term"] == term)).sum()) - len(rows)
        if self.fig is None or len(rows) != self.size or not self.odds:
            self.close()
            self._shared(len(rows))
        drawn, self.drawn = self.drawn, []
        for artist in drawn:
            artist.remove()
        try:
            self.drawn = self._curve(rows, blank, title or f"{model}: {term}")
        except BaseException:  # a curve drawn in part: the figure is not reused
            self.close()
            raise
        return self.fig

    def close(self) -> None:
        if self.fig is not None:
            plt.close(self.fig)
        self.fig, self.size, self.drawn = None, None, []

    def _shared(self, size: int) -> None:
        """A new figure for curves of `size` universes, with what they all show."""
        decisions, options, odds = self.decisions, self.options, self.odds
        # the decisions' panels share one axes (a panel per decision cost a third of a page's drawing): each
        # decision's options are rows, the decisions apart by a line, each named in bold left of its options
        heights = [max(3.0, 0.3 * sum(map(len, options.values())))]
        if decisions:
            heights.append(0.3 * sum(map(len, options.values())) + 0.4)
        fig, axes = plt.subplots(len(heights), 1, squeeze=False, dpi=DPI,
                                 figsize=(min(MAX_WIDTH, max(6.0, 2.5 + 0.12 * size)), sum(heights) + 1.0),
                                 gridspec_kw={"height_ratios": heights, "hspace": 0.04 if decisions else 0.12})
        self.fig, self.size = fig, size
        self.curve, self.last = axes[0, 0], axes[-1, 0]
        _curve_axes(self.curve, odds)
        for ax in axes[:, 0]:
            ax.set_xlim(0.3, max(size, 1) + 0.7)
        if decisions:
            _choice_rows(self.last, decisions, options, self.labels)
            # no x ticks on the curve (the universes are numbered under the choices): not sharex, which would give
            # the curve the universes' ticks, each built and measured though unlabelled
            self.curve.xaxis.set_major_locator(NullLocator())
        self.last.tick_params(axis="x", labelsize=7)

    def _curve(self, rows: pd.DataFrame, blank: int, title: str) -> list:
        """One curve on the shared figure: the artists it added (the next curve takes them away)."""
        colours = [SIDE_COLOURS[s] for s in rows["side"]]
        x = rows["position"].to_numpy()
        drawn = _draw_curve(self.curve, rows, x, colours, self.odds)
        last = self.last
        if self.decisions:
            drawn.append(_draw_choices(last, rows, x, colours, self.decisions, self.options))
        not_shown = f"; {blank} universe(s) without an estimate not shown" if blank else ""
        last.set_xlabel(f"universe, sorted by the {'odds ratio' if self.odds else 'estimate'} (N = {len(rows)}{not_shown})",
                        fontsize=9)
        if len(x) <= 40:  # each universe's number under its bar; beyond, they would overlap
            last.set_xticks(x, [str(u) for u in rows["universe"]], rotation=90 if len(x) > 20 else 0)
        else:
            last.set_xticks([])
        self.curve.set_title(title, fontsize=10)
        return drawn


def choice_rows(decisions: list[str], options: Mapping[str, list[str]]) -> dict[tuple[str, str], int]:
    """The row of each (decision, option) on the choices axes, top to bottom: the first decision on top, each
    decision's first option first."""
    rows, top = {}, sum(len(options[d]) for d in decisions) - 1
    for decision in decisions:
        for option in options[decision]:
            rows[(decision, option)] = top
            top -= 1
    return rows


def _choice_rows(ax, decisions: list[str], options: Mapping[str, list[str]], labels: Mapping[str, str]) -> None:
    """Beneath the curve, specr's choice panels: one row per option, the decisions apart by a line and named in
    bold left of their options."""
    at = choice_rows(decisions, options)
    ax.set_yticks(list(at.values()), [labels.get(f"{d}/{o}", o) for d, o in at], fontsize=8)
    ax.set_ylim(-0.6, len(at) - 0.4)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="y", color="0.92", lw=0.6)
    # Each decision's name right-aligned left of the widest option label (measured at the PNG's resolution, as
    # crop_box measures; matplotlib places an axis label so, but an axes has one y label, not one per decision)
    with matplotlib.rc_context(UNHINTED):
        renderer = ax.figure.canvas.get_renderer()
        widest = max(t.get_window_extent(renderer).width for t in ax.get_yticklabels()) * 72 / ax.figure.dpi
    tick = ax.yaxis.get_major_ticks()[0]
    offset = widest + tick.get_tick_padding() + tick.get_pad() + rcParams["axes.labelpad"]  # as far as a y label
    for decision in decisions:
        own = [at[(decision, o)] for o in options[decision]]
        ax.annotate(labels.get(decision, decision), (0, (min(own) + max(own)) / 2), xycoords=ax.get_yaxis_transform(),
                    xytext=(-offset, 0), textcoords="offset points", ha="right", va="center", fontsize=8,
                    fontweight="bold")
        if min(own) > 0:
            ax.axhline(min(own) - 0.5, color="black", lw=0.8)


def _draw_choices(ax, rows: pd.DataFrame, x: np.ndarray, colours: list[str], decisions: list[str],
                  options: Mapping[str, list[str]]):
    """A bar at the option each universe took, in its colour, on the choices' rows: the bars' artist."""
    at = choice_rows(decisions, options)
    y = np.concatenate([[at[(d, str(o))] for o in rows[d]] for d in decisions]) if len(rows) else np.zeros(0)
    return ax.scatter(np.tile(x, len(decisions)), y, marker="|", s=120, c=colours * len(decisions),
                      linewidths=1.6 if len(rows) <= 100 else 0.6)


def _curve_axes(ax, odds: bool) -> None:
    """What every curve's axes show: the null line (over the intervals, under the points), the scale, the label,
    the grid and the colours' legend."""
    ax.axhline(1 if odds else 0, color="black", lw=0.7, ls="--", zorder=2.5)
    if odds:
        ax.set_yscale("log")
    ax.set_ylabel("odds ratio (95% interval, log scale)" if odds else "estimate (95% interval)", fontsize=9)
    ax.grid(axis="y", color="0.92", lw=0.6)
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", markersize=4) for c in (BELOW, SPANS, ABOVE)]
    null = "1" if odds else "0"
    ax.legend(handles, [f"interval below {null}", f"interval spans {null}", f"interval above {null}"], fontsize=7,
              loc="upper left", frameon=False)


def _draw_curve(ax, rows: pd.DataFrame, x: np.ndarray, colours: list[str], odds: bool) -> list:
    """The sorted estimates with their intervals (specr's pointrange, alpha 0.5), the axis's range: the artists."""
    values = [rows[c].astype(float).to_numpy() for c in ("estimate", "ci_low", "ci_high")]
    if odds:
        with np.errstate(over="ignore"):
            raw = [np.exp(v) for v in values]
        est, low, high = (np.clip(v, *AXIS) for v in raw)
    else:
        raw = values
        est, low, high = values
    dense = len(rows) > 100  # thousands of universes: thinner lines and dots, as specr's curve stays legible
    drawn = [ax.vlines(x, low, high, colors=colours, alpha=0.5, lw=0.6 if dense else 1.6),  # a blank limit: no line
             ax.scatter(x, est, c=colours, s=3 if dense else 14, zorder=3)]
    if odds:
        stacked = np.column_stack(raw) if len(rows) else np.zeros((0, 3))
        below, above = (stacked < AXIS[0]).any(axis=1), (stacked > AXIS[1]).any(axis=1)
        drawn.append(ax.scatter(x[below], np.full(below.sum(), AXIS[0]), marker="v", c="black", s=20, zorder=4))
        drawn.append(ax.scatter(x[above], np.full(above.sum(), AXIS[1]), marker="^", c="black", s=20, zorder=4))
        shown = np.concatenate([[1.0], *(v[np.isfinite(v)] for v in (est, low, high))])
        bottom, top = max(AXIS[0], shown.min() / 1.5), min(AXIS[1], shown.max() * 1.5)
        ax.set_ylim(bottom, top)
        plain_log_ticks(ax.yaxis, bottom, top)
    return drawn


def save(fig, paths: Sequence[Path]) -> list[Path]:
    """The figure in the format each path's suffix names (png, pdf), atomically, with fixed metadata."""
    files = {}
    for path in map(Path, paths):
        ext = path.suffix.lower().lstrip(".")
        if ext not in METADATA:
            raise CasemetaError(f"{path}: a figure file must end in .png or .pdf")
        files[path] = METADATA[ext]
    return write_figure(fig, files)


def write_specification_curves(specifications: pd.DataFrame, decisions: list[str], labels: Mapping[str, str],
                               out_paths: Mapping[tuple[str, str], Sequence[Path]], odds: bool = True,
                               titles: Mapping[tuple[str, str], str] | None = None) -> list[Path]:
    """One specification curve per (model, term) key of `out_paths`, to its files (PNG and/or PDF, by suffix).
    A term no universe estimated gets a figure that says so. `titles`: (model, term) -> the title a reader sees."""
    written = []
    for (model, term), paths in out_paths.items():  # a figure each: save closes it
        fig = _curve_or_note(CurvePages(specifications, decisions, labels, odds), model, term,
                             (titles or {}).get((model, term)))
        written += save(fig, paths)
    return written


def _note(text: str):
    """A figure holding one line of text, where there is no curve to draw."""
    fig = plt.figure(figsize=(6, 0.8))
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    return fig


def _curve_or_note(pages: CurvePages, model: str, term: str, title: str | None):
    """The term's specification curve (on the pages' shared figure), or a figure of its own that says no universe
    estimated it."""
    rows = curve_rows(pages.specifications, model, term)
    if rows.empty:
        return _note(f"{title or f'{model}: {term}'}: no universe gave an estimate")
    return pages.draw(rows, model, term, title)


def write_curve_pages(specifications: pd.DataFrame, decisions: list[str], labels: Mapping[str, str], path: Path,
                      titles: Mapping[tuple[str, str], str] | None = None, odds: bool = True) -> Path:
    """Every (model, term) of `specifications` as one page of a PDF at `path`, in the order they first appear:
    one file the workflow can declare whatever terms the models turn out to have (a category predictor has a
    term per level). Fixed metadata: the same input gives the same bytes."""
    from matplotlib.backends.backend_pdf import PdfPages

    keys = list(dict.fromkeys(zip(specifications["model"], specifications["term"])))

    def write(tmp):
        pages = CurvePages(specifications, decisions, labels, odds)
        try:
            with PdfPages(tmp, metadata=METADATA["pdf"]) as pdf:
                if not keys:
                    fig = _note("No model term in any universe")
                    try:
                        pdf.savefig(fig)
                    finally:
                        plt.close(fig)
                for model, term in keys:
                    title = (titles or {}).get((model, term)) or f"{model}: {term}"
                    fig = _curve_or_note(pages, model, term, title)
                    try:
                        box = crop_box(fig)  # measured once: bbox_inches="tight" would draw the page twice
                        with matplotlib.rc_context(UNHINTED):
                            pdf.savefig(fig, bbox_inches=box)
                    finally:
                        if fig is not pages.fig:  # a note's own figure; the shared one is closed below
                            plt.close(fig)
        finally:
            pages.close()

    atomic_io.atomic_write(Path(path), write)
    return Path(path)
