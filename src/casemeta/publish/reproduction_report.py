"""The readable reproduction report: every mismatch and every failed consistency check."""

from __future__ import annotations

import pandas as pd


def _md(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False) if len(frame) else "_none_"


def _side_by_side(table: pd.DataFrame, published: pd.DataFrame, name: str) -> pd.DataFrame:
    """Our table with '**ours** (published N)' where the paper prints another number."""
    shown = table.astype(str).copy()
    for r in published[published["table"] == name].itertuples(index=False):
        if r.row in table.index and r.column in table.columns and table.at[r.row, r.column] != r.published:
            shown.at[r.row, r.column] = f"**{table.at[r.row, r.column]}** (published {r.published})"
    not_published = [row for row in table.index if row not in set(published.loc[published["table"] == name, "row"])]
    shown.index = [f"{row} _(not printed)_" if row in not_published else row for row in table.index]
    return shown.reset_index(names=table.index.name or name)


def render_report(study_title: str, source: str, reproduction: pd.DataFrame, checks: pd.DataFrame,
                  tables: dict[str, pd.DataFrame], titles: dict[str, str], published: pd.DataFrame,
                  n_cases: int) -> str:
    mismatches = reproduction[~reproduction["match"]]
    failed = checks[~checks["holds"]]
    lines = [
        f"# Reproduction report: {study_title}",
        "",
        f"Source: {source}",
        "",
        f"Recomputed from {n_cases} coded cases. {len(reproduction)} published numbers compared: "
        f"**{int(reproduction['match'].sum())} reproduce, {len(mismatches)} do not.** "
        f"{len(checks)} internal-consistency checks of the published tables: "
        f"**{int(checks['holds'].sum())} hold, {len(failed)} fail.**",
        "",
        "A mismatch is a finding about the publication or its coding, reported as it is; "
        "the coding is never changed to make a published number match.",
        "",
        "## Numbers that do not reproduce",
        "",
        _md(mismatches[["table", "row", "column", "published", "reproduced"]]),
        "",
        "## Published tables that contradict themselves",
        "",
        _md(failed[["table", "check", "where", "numbers"]]),
        "",
        "## Summary by table",
        "",
        _md(reproduction.groupby("table", sort=False)["match"].agg(compared="size", reproduced="sum")
            .assign(mismatches=lambda t: t["compared"] - t["reproduced"]).reset_index()),
        "",
    ]
    for name, table in tables.items():
        lines += [f"## {name}: {titles.get(name, '')}".rstrip(": "), "",
                  "Our counts; where the paper prints another number, ours is in bold and the published one "
                  "follows in parentheses: **ours** (published N).", "",
                  _side_by_side(table, published, name).to_markdown(index=False), ""]
    return "\n".join(lines)
