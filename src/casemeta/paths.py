"""The one guard on what a command may write or delete.

- A command never writes over a file it reads (`casemeta reliability A.csv B.csv --out A.csv` would
  replace a coder's file with agreement statistics), nor two of its outputs over each other.
- A named output never lands in the project's data/ or analysis/ (coded data change only through
  add-case and code; plans only by hand).
- What a command deletes lies inside the results folder (casemeta.study.Study.clear).
- A study's name is a plain name, so that results/<study>/ and data/coded/<study>/ stay where they
  belong (`--study ../coded/african_clusters` would otherwise clear files outside results/).

Paths are compared once every symlink is followed (casemeta.atomic_io.real_path), so a link or
`./A.csv` does not slip past.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from casemeta.atomic_io import real_path
from casemeta.errors import CasemetaError

STUDY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PROTECTED = ("data", "analysis")  # project folders no command output may land in


def check_study_name(name: str, option: str = "--study") -> str:
    """A study's name: lower-case letters, digits and underscores, starting with a letter (african_clusters)."""
    if not isinstance(name, str) or not STUDY_NAME.match(name):
        raise CasemetaError(f"{option} {name!r}: not a study name; expected a plain name of lower-case letters, "
                            "digits and underscores, starting with a letter (e.g. african_clusters; see `casemeta studies`)")
    return name


class _Identity:
    """What a path stands for, worked out once: its real path, and the file's (device, inode) where it
    exists (hard links, case-insensitive file systems: what os.path.samefile compares). A command with
    hundreds of outputs compares each with every other: a realpath and two stats per pair cost the export
    step a third of a second, one per path costs nothing."""

    def __init__(self, path: Path):
        self.real = real_path(path)
        try:
            found = os.stat(path)
            self.file = (found.st_dev, found.st_ino)
        except OSError:
            self.file = None

    def same(self, other: "_Identity") -> bool:
        return self.real == other.real or (self.file is not None and self.file == other.file)


def check_outputs(outputs: Iterable[tuple[str, Path]], inputs: Iterable[tuple[str, Path]] = (),
                  root: Path | None = None, command: str = "casemeta") -> None:
    """Refuse, before anything is written, an output that is one of the command's inputs, two outputs that
    are one file, or an output under the project's data/ or analysis/. Each pair is (option, path)."""
    outputs = [(o, Path(p), _Identity(Path(p))) for o, p in outputs if p is not None]
    inputs = [(o, Path(p), _Identity(Path(p))) for o, p in inputs if p is not None]
    protected = [(folder, real_path(Path(root) / folder)) for folder in PROTECTED] if root is not None else []
    problems = []
    for option, path, identity in outputs:
        for in_option, source, source_identity in inputs:
            if identity.same(source_identity):
                problems.append(f"{option} {path}: it is also read by this command ({in_option} {source}); a command "
                                "never writes over what it reads: choose another file")
        for folder, where in protected:
            if identity.real.is_relative_to(where):
                problems.append(f"{option} {path}: inside the project's {folder}/; {command} never writes there "
                                "(coded data change only through add-case and code, plans only by hand): "
                                "choose a file under results/")
    # each output against the earlier ones, found by its real path or its file in a dict (not pair by pair)
    seen: dict[object, list[int]] = {}
    for i, (option, path, identity) in enumerate(outputs):
        keys = [("real", identity.real)] + ([("file", identity.file)] if identity.file is not None else [])
        for j in sorted({j for key in keys for j in seen.get(key, ())}):
            other_option, other, _ = outputs[j]
            problems.append(f"{option} {path}: the same file as {other_option} {other}; each output needs its own file")
        for key in keys:
            seen.setdefault(key, []).append(i)
    if problems:
        raise CasemetaError(problems[0] if len(problems) == 1 else f"{len(problems)} output path(s) refused", problems
                            if len(problems) > 1 else None)


def check_removable(path: Path, results_root: Path) -> None:
    """Refuse to delete anything outside the results folder (stale results are the only files removed)."""
    where = real_path(Path(path).parent) / Path(path).name  # a symlink itself is removed, not what it points to
    results = real_path(results_root)
    if not where.is_relative_to(results) or where == results:
        raise CasemetaError(f"{path}: outside the results folder {results_root}; only results are ever removed "
                            "(nothing was deleted)")
