"""The package's layers, as the README describes them: statistics take frames and return frames."""

import ast
from pathlib import Path

import casemeta

STATS = Path(casemeta.__file__).parent / "stats"
# what reads or writes a file: a module of the statistics layer imports none of these, calls none
FILE_MODULES = {"pathlib", "os", "shutil", "io", "csv", "casemeta.atomic_io", "casemeta.coded.case_table"}
FILE_CALLS = {"open", "read_csv", "to_csv", "read_text", "write_text", "read_excel", "to_excel", "read_parquet"}


def _file_access(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name in FILE_MODULES]
        elif isinstance(node, ast.ImportFrom):
            names = {a.name for a in node.names}
            if node.module in FILE_MODULES and not (node.module == "casemeta.coded.case_table" and names <= {"physical_line"}):
                found.append(f"from {node.module} import ...")  # physical_line only numbers lines of a frame
            found += [f"from {node.module} import {n}" for n in sorted(names) if f"{node.module}.{n}" in FILE_MODULES]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FILE_CALLS:
                found.append(f"line {node.lineno}: {name}(...)")
    return found


def test_the_statistics_layer_does_no_file_io():
    modules = sorted(STATS.glob("*.py"))
    assert len(modules) >= 10
    offenders = {p.name: found for p in modules if (found := _file_access(p))}
    assert offenders == {}


def test_the_check_finds_file_access(tmp_path):
    # the check itself can fail: a module that reads a CSV, or writes one through casemeta's own writer
    probe = tmp_path / "probe.py"
    probe.write_text("import pandas as pd\nfrom casemeta import atomic_io\nfrom casemeta.atomic_io import write_csv\n"
                     "def f(p):\n    return pd.read_csv(p)\n", encoding="utf-8")
    assert _file_access(probe) == ["from casemeta import atomic_io", "from casemeta.atomic_io import ...", "line 5: read_csv(...)"]
