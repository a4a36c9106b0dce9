"""The XY plot of QCA: each case's membership in a solution (or term) against its membership in the outcome.

Cases on or above the diagonal are consistent with sufficiency (X ≤ Y); the share of the outcome's
membership that lies under the points' X is the coverage.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

from casemeta.publish.figures import UNHINTED, _save, fixed_layout, nothing_to_draw, plt


LABEL_WIDTH = 48  # characters of an axis label or title per line: a panel is 5 in wide, labels are 8 pt
# Where a point's label may go, in points from the point (dx, dy, horizontal alignment): above right first.
LABEL_SPOTS = [(4, 4, "left"), (-4, 4, "right"), (4, -11, "left"), (-4, -11, "right"), (4, 13, "left"), (-4, 13, "right")]


def wrapped(text: str, width: int = LABEL_WIDTH) -> str:
    """An axis label or title in lines of at most `width` characters; a solution `A * B + C` breaks after each
    `+` first, so that each path stands on a line of its own."""
    paths = text.split(" + ")
    lines = []
    for i, path in enumerate(paths):
        lines += textwrap.wrap(path + (" +" if i < len(paths) - 1 else ""), width, break_on_hyphens=False) or [""]
    return "\n".join(lines)


def xy_grid(panels: list[tuple[np.ndarray, str, str]], y: np.ndarray | None, cases: list[str], y_label: str,
            stem: Path) -> list[Path]:
    """One figure, PNG and PDF: an XY plot per (membership, model expression, title) panel, three to a row;
    with no panel (no solution, no cases), a figure that says so. Labels are wrapped to their panel, and
    each point's label is put where it overlaps no other label."""
    if not panels:
        return nothing_to_draw(f"No solution for {y_label}: nothing to plot (see the solutions table for why).", stem)
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    lines = max(wrapped(x_label).count("\n") for _, x_label, _ in panels) + 1
    # constrained layout, with square axes boxes (set_box_aspect), leaves room for each panel's wrapped labels;
    # tight_layout with set_aspect("equal") let a long axis label run into the title of the panel below
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, (5 + 0.15 * lines) * rows), squeeze=False)
    labels = [_xy_axes(ax, x, y, cases, wrapped(x_label), wrapped(y_label, 40), wrapped(title))
              for ax, (x, x_label, title) in zip(axes.flat, panels)]
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    # The layout computed once, then fixed: a figure that keeps a layout engine is laid out again (and drawn an
    # extra time) by every savefig. Point labels are then measured where they will be.
    renderer = fixed_layout(fig, ConstrainedLayoutEngine())
    with matplotlib.rc_context(UNHINTED):  # measured as the files will measure them
        for ax, points in zip(axes.flat, labels):  # once the layout is final: measured where they will be
            _place_point_labels(ax, points, renderer)
    return _save(fig, stem)


def _xy_axes(ax, x: np.ndarray, y: np.ndarray, cases: list[str], x_label: str, y_label: str,
             title: str) -> list[tuple[tuple[float, float], str]]:
    """The panel's points, diagonal and labels; returns each point with its label, placed later."""
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.axhline(0.5, color="lightgrey", lw=0.6)
    ax.axvline(0.5, color="lightgrey", lw=0.6)
    groups: dict[tuple[float, float], list[str]] = {}
    for xi, yi, name in zip(x, y, cases):
        groups.setdefault((round(float(xi), 3), round(float(yi), 3)), []).append(name)
    points = np.array(list(groups)) if groups else np.empty((0, 2))
    sizes = [18 + 10 * len(names) for names in groups.values()]
    ax.scatter(points[:, 0], points[:, 1], s=sizes, color="tab:blue", alpha=0.7, zorder=3)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_box_aspect(1)  # with equal limits: the diagonal at 45 degrees
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(y_label)
    ax.set_title(title, fontsize=9)
    # crisp sets stack cases on one point: count them instead
    return [((xi, yi), names[0] if len(names) == 1 else f"{len(names)} cases") for (xi, yi), names in groups.items()]


def _place_point_labels(ax, points: list[tuple[tuple[float, float], str]], renderer) -> None:
    """Each point's label at the first of LABEL_SPOTS where it overlaps no label placed before and stays inside
    the axes (else at the first spot). Written here rather than with adjustText: a handful of labels per panel
    and six spots each, measured by the renderer, need no iterative solver (nor another dependency)."""
    placed = []
    inside = ax.get_window_extent(renderer)
    for (xi, yi), text in sorted(points, key=lambda p: (-p[0][1], p[0][0])):
        chosen = None
        for dx, dy, align in LABEL_SPOTS:
            note = ax.annotate(text, (xi, yi), xytext=(dx, dy), textcoords="offset points", fontsize=7, ha=align)
            box = note.get_window_extent(renderer)
            fits = box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0 and box.y1 <= inside.y1
            if fits and not any(box.overlaps(other) for other in placed):
                chosen = (note, box)
                break
            note.remove()
        if chosen is None:
            dx, dy, align = LABEL_SPOTS[0]
            note = ax.annotate(text, (xi, yi), xytext=(dx, dy), textcoords="offset points", fontsize=7, ha=align)
            chosen = (note, note.get_window_extent(renderer))
        placed.append(chosen[1])


def robustness_xy(IS: np.ndarray, TS: np.ndarray, y: np.ndarray, cases: list[str], solution: str, outcome: str,
                  subtitle: str, stem: Path) -> list[Path]:
    """The robustness plot of Oana & Schneider (2021), as SetMethods' rob.xyplot draws it: each case's membership
    in the initial solution (IS) against the test sets' (TS: MinTS where IS > 0.5, MaxTS elsewhere); filled
    points have the outcome (> 0.5), open ones not. The shaded corners hold the shaky (IS > 0.5, MinTS < 0.5)
    and possible (IS < 0.5, MaxTS > 0.5) cases; only cases off the diagonal corners are named (rob.xyplot's
    default); cases that sit at one point are counted instead."""
    if len(IS) == 0:
        return nothing_to_draw(f"No robustness plot for {outcome}: no solution or no test set.", stem)
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.add_patch(plt.Rectangle((0.5, -0.05), 0.55, 0.55, color="grey", alpha=0.2, lw=0))
    ax.add_patch(plt.Rectangle((-0.05, 0.5), 0.55, 0.55, color="grey", alpha=0.2, lw=0))
    for x, yy, text in ((0.75, -0.02, "MinTS < 0.5"), (0.25, -0.02, "MaxTS < 0.5"), (0.75, 1.02, "MinTS > 0.5"),
                        (0.25, 1.02, "MaxTS > 0.5")):
        ax.text(x, yy, text, ha="center", va="center", fontsize=8, fontweight="bold", color="dimgrey")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.axhline(0.5, color="lightgrey", lw=0.6)
    ax.axvline(0.5, color="lightgrey", lw=0.6)
    has = np.asarray(y) > 0.5
    ax.scatter(IS[has], TS[has], s=30, color="tab:blue", zorder=3, label="outcome > 0.5")
    ax.scatter(IS[~has], TS[~has], s=30, facecolors="none", edgecolors="tab:red", zorder=3, label="outcome ≤ 0.5")
    groups: dict[tuple[float, float], list[str]] = {}
    for xi, ti, name in zip(IS, TS, cases):
        groups.setdefault((round(float(xi), 3), round(float(ti), 3)), []).append(name)
    for (xi, ti), names in groups.items():
        off = (xi > 0.5) != (ti > 0.5)  # the shaky and possible corners: their cases are named
        if off or len(names) > 1:
            ax.annotate(names[0] if off and len(names) == 1 else f"{len(names)} cases", (xi, ti), xytext=(4, 4),
                        textcoords="offset points", fontsize=7)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xlabel(f"Initial solution (IS): {solution}", fontsize=8)
    ax.set_ylabel("Min/Max test set (TS)")
    ax.set_title(f"Robustness plot: {outcome}\n{subtitle}", fontsize=8)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False)
    fixed_layout(fig, TightLayoutEngine())  # fig.tight_layout() would leave an engine: every savefig lays out again
    return _save(fig, stem)
