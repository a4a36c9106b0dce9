"""Figures: a heat map of each cross-tab with its counts, and forest plots of odds ratios."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from casemeta import atomic_io  # noqa: E402
from casemeta.coded.codebook import Codebook  # noqa: E402


def _save(fig, stem: Path) -> list[Path]:
    paths = []
    for ext in ("png", "pdf"):
        path = stem.with_suffix(f".{ext}")
        atomic_io.atomic_write(path, lambda tmp, ext=ext: fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight"))
        paths.append(path)
    plt.close(fig)
    return paths


def crosstab_heatmap(part: pd.DataFrame, codebook: Codebook, stem: Path) -> list[Path]:
    """Share of each condition category reaching each outcome, with the counts written in."""
    condition = part["condition"].iloc[0]
    outcomes = list(dict.fromkeys(part["outcome"]))
    labels = list(dict.fromkeys(part["condition_label"]))
    yes = part[part["outcome_value"] == 1].pivot_table(index="condition_label", columns="outcome", values="count", sort=False).reindex(index=labels, columns=outcomes)
    total = part[part["outcome"] == outcomes[0]].groupby("condition_label", sort=False)["count"].sum().reindex(labels)
    share = yes.div(total.replace(0, np.nan), axis=0)
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(outcomes), 0.9 + 0.45 * len(labels)))
    image = ax.imshow(share.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i, label in enumerate(labels):
        for j, outcome in enumerate(outcomes):
            k, n = int(yes.at[label, outcome]), int(total[label])
            value = share.at[label, outcome]
            ax.text(j, i, f"{k}/{n}", ha="center", va="center", color="white" if value > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(outcomes)), [codebook.label(o) for o in outcomes], rotation=20, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylabel(codebook.label(condition))
    fig.colorbar(image, ax=ax, label="share with outcome")
    ax.set_title(f"{codebook.label(condition)}: cases with each outcome", fontsize=10)
    return _save(fig, stem)


def forest_plot(models: pd.DataFrame, codebook: Codebook, stem: Path) -> list[Path]:
    """Odds ratios with 95% intervals on a log scale, one line per model and term."""
    rows = models[(models["term"] != "Intercept") & models["odds_ratio"].notna()].copy()
    rows["label"] = [f"{m}: {codebook.label(t) if t in {v.name for v in (*codebook.variables, *codebook.derived)} else t}" for m, t in zip(rows["model"], rows["term"])]
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.32 * len(rows)))
    y = np.arange(len(rows))[::-1]
    colors = ["tab:red" if m == "firth" else "tab:blue" for m in rows["method"]]
    low = np.clip(rows["or_ci_low"].to_numpy(dtype=float), 1e-3, 1e5)
    high = np.clip(rows["or_ci_high"].to_numpy(dtype=float), 1e-3, 1e5)
    est = np.clip(rows["odds_ratio"].to_numpy(dtype=float), 1e-3, 1e5)
    ax.hlines(y, low, high, colors=colors)
    ax.scatter(est, y, c=colors, zorder=3, s=18)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, rows["label"], fontsize=8)
    ax.set_xlabel("odds ratio (95% interval, log scale)")
    ax.set_title("Logistic models: red = Firth (cases separate), blue = ML", fontsize=10)
    return _save(fig, stem)
