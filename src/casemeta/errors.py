"""One error type for bad input, carrying every problem found, not just the first."""

from __future__ import annotations

import errno
import os

# What a researcher can do about the usual file-system failures; anything else gets the system's words.
_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space, then run the command again",
    errno.EDQUOT: "the disk quota is used up; free some space, then run the command again",
    errno.EACCES: "permission denied; make it {mode} for you (or work in a copy you own), then run the command again",
    errno.EPERM: "permission denied; make it {mode} for you (or work in a copy you own), then run the command again",
    errno.EROFS: "the file system is read-only; work in a writable copy of the project",
    errno.EISDIR: "it is a folder where a file is expected; move the folder away or name another file",
    errno.ENOTDIR: "part of the path is a file where a folder is expected; check the path",
    errno.EEXIST: "a file is in the way where a folder is needed; check the path",
    errno.ENOENT: "no such file or folder; check the path",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
}


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


def file_error(exc: OSError, action: str, path: str | os.PathLike | None = None) -> CasemetaError:
    """One line for a failed file operation: which path, what failed, what to do.

    `action` is "read", "write", "lock", "remove" or "read or write" (when it
    is not known); `path` defaults to the one the operating system named (a
    full disk, for one, names none).
    """
    where = path if path is not None else (exc.filename or "a file")
    mode = {"read": "readable", "read or write": "readable and writable"}.get(action, "writable")
    advice = _ADVICE.get(exc.errno, f"{exc.strerror or exc}; check the path and try again").format(mode=mode)
    return CasemetaError(f"{where}: cannot {action} it: {advice}")
