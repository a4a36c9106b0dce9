"""The `note` of a result row: empty where every statistic was computed, else why one is missing
or which fallback computed it. Notes are short clauses joined by "; "."""

from __future__ import annotations


def join_notes(*notes: str) -> str:
    """Notes of one row, in order, without empty ones."""
    return "; ".join(n for n in notes if n)


def reason(exc: Exception, source: str) -> str:
    """An error's first line without the leading source name (the row already says which study)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[len(source) + 2:] if text.startswith(f"{source}: ") else text
