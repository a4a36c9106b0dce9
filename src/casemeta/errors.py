"""One error type for bad input, carrying every problem found, not just the first."""

from __future__ import annotations


class CasemetaError(Exception):
    """Bad input or configuration; the message is meant for the researcher.

    `problems` holds one line per problem so that a command can report all of
    them at once (a coder fixing a file wants the whole list, not one per run).
    """

    def __init__(self, summary: str, problems: list[str] | None = None):
        self.summary = summary
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.problems:
            return self.summary
        return self.summary + "\n" + "\n".join(f"  - {p}" for p in self.problems)
