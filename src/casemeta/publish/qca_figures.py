"""The XY plot of QCA: each case's membership in a solution (or term) against its membership in the outcome.

Cases on or above the diagonal are consistent with sufficiency (X ≤ Y); the share of the outcome's
membership that lies under the points' X is the coverage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from casemeta.publish.figures import _save, nothing_to_draw, plt


def xy_grid(panels: list[tuple[np.ndarray, str, str]], y: np.ndarray | None, cases: list[str], y_label: str,
            stem: Path) -> list[Path]:
    """One figure, PNG and PDF: an XY plot per (membership, model expression, title) panel, three to a row;
    with no panel (no solution, no cases), a figure that says so."""
    if not panels:
        return nothing_to_draw(f"No solution for {y_label}: nothing to plot (see the solutions table for why).", stem)
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 5 * rows), squeeze=False)
    for ax, (x, x_label, title) in zip(axes.flat, panels):
        _xy_axes(ax, x, y, cases, x_label, y_label, title)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, stem)


def _xy_axes(ax, x: np.ndarray, y: np.ndarray, cases: list[str], x_label: str, y_label: str, title: str) -> None:
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.axhline(0.5, color="lightgrey", lw=0.6)
    ax.axvline(0.5, color="lightgrey", lw=0.6)
    groups: dict[tuple[float, float], list[str]] = {}
    for xi, yi, name in zip(x, y, cases):
        groups.setdefault((round(float(xi), 3), round(float(yi), 3)), []).append(name)
    points = np.array(list(groups)) if groups else np.empty((0, 2))
    sizes = [18 + 10 * len(names) for names in groups.values()]
    ax.scatter(points[:, 0], points[:, 1], s=sizes, color="tab:blue", alpha=0.7, zorder=3)
    for (xi, yi), names in groups.items():  # crisp sets stack cases on one point: count them instead
        label = names[0] if len(names) == 1 else f"{len(names)} cases"
        ax.annotate(label, (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(y_label)
    ax.set_title(title, fontsize=9)


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
    fig.tight_layout()
    return _save(fig, stem)
