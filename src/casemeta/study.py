"""Where a study's files live; a study is a codebook, its data and an analysis plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from casemeta.coded.codebook import Codebook, load_codebook
from casemeta.errors import CasemetaError


@dataclass(frozen=True)
class Study:
    root: Path
    name: str

    @property
    def coded_dir(self) -> Path:
        return self.root / "data" / "coded" / self.name

    @property
    def codebook_path(self) -> Path:
        return self.coded_dir / "codebook.yaml"

    @property
    def cases_path(self) -> Path:
        return self.coded_dir / "cases.csv"

    @property
    def coders_dir(self) -> Path:
        return self.coded_dir / "coders"

    @property
    def raw_dir(self) -> Path:
        return self.root / "data" / "raw" / self.name

    @property
    def plan_path(self) -> Path:
        return self.root / "analysis" / f"{self.name}.yaml"

    def codebook(self) -> Codebook:
        return load_codebook(self.codebook_path)


def discover_studies(root: str | Path = ".") -> list[str]:
    """Studies with both an analysis plan and a codebook; no registration needed."""
    root = Path(root)
    names = sorted(p.stem for p in (root / "analysis").glob("*.yaml"))
    return [n for n in names if Study(root, n).codebook_path.is_file()]


def get_study(root: str | Path, name: str) -> Study:
    study = Study(Path(root), name)
    if not study.codebook_path.is_file():
        known = ", ".join(discover_studies(root)) or "none"
        raise CasemetaError(f"unknown study {name!r}: {study.codebook_path} does not exist (studies: {known})")
    return study
