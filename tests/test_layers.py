"""The package's layers, as the README describes them: statistics take frames and return frames."""

import ast
from pathlib import Path

import casemeta

STATS = Path(casemeta.__file__).parent / "stats"
# what reads or writes files, directly: a module of the statistics layer imports none of these ...
FILE_MODULES = {"pathlib", "os", "os.path", "shutil", "io", "csv", "tempfile", "glob", "fileinput", "pickle", "shelve",
                "sqlite3", "json", "yaml", "h5py", "pyarrow", "matplotlib", "matplotlib.pyplot", "openpyxl", "docx"}
# ... and takes from the rest of casemeta only these names, none of which touches a file
ALLOWED_FROM_CASEMETA = {
    "casemeta.errors": {"CasemetaError"},
    "casemeta.coded.codebook": {"Codebook", "dependents"},  # the codebook object and a walk of its rules, not its loader
    "casemeta.coded.case_table": {"physical_line"},  # numbers the lines of a frame already read
    "casemeta.coded.raw_coding": {"split_terms", "term_variables"},
    "casemeta.coded.expressions": {"evaluate"},
}
# ... and calls none of these (pandas, NumPy, pathlib and matplotlib readers and writers, file-system changes)
FILE_CALLS = {"open", "read_csv", "to_csv", "read_text", "write_text", "read_bytes", "write_bytes", "read_excel",
              "to_excel", "read_parquet", "to_parquet", "read_json", "to_json", "read_pickle", "to_pickle", "read_table",
              "read_fwf", "to_hdf", "read_hdf", "savefig", "savez", "savez_compressed", "loadtxt", "savetxt",
              "genfromtxt", "fromfile", "tofile", "save", "load", "unlink", "rmdir", "mkdir", "rename", "touch", "memmap"}


def _file_access(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in FILE_MODULES or (alias.name.startswith("casemeta.") and not alias.name.startswith("casemeta.stats")):
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module in FILE_MODULES or node.module.split(".")[0] in FILE_MODULES:
                found.append(f"from {node.module} import {', '.join(sorted(names))}")
            elif node.module == "casemeta" or (node.module.startswith("casemeta.") and not node.module.startswith("casemeta.stats")):
                extra = names - ALLOWED_FROM_CASEMETA.get(node.module, set())
                found += [f"from {node.module} import {n}" for n in sorted(extra)]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FILE_CALLS:
                found.append(f"line {node.lineno}: {name}(...)")
    return found


def test_the_statistics_layer_does_no_file_io():
    modules = sorted(STATS.rglob("*.py"))
    assert len(modules) >= 15 and any(p.parent.name == "qca" for p in modules)  # the subpackages too
    offenders = {str(p.relative_to(STATS)): found for p in modules if (found := _file_access(p))}
    assert offenders == {}


def test_the_check_finds_file_access(tmp_path):
    # the check itself can fail: a module that reads a CSV, writes through casemeta's own writer, loads a
    # codebook through casemeta's loader, or saves an array
    probe = tmp_path / "probe.py"
    probe.write_text("import os.path\nimport numpy as np\nimport pandas as pd\nfrom casemeta import atomic_io\n"
                     "from casemeta.coded.codebook import Codebook, load_codebook\n"
                     "from casemeta.coded.raw_coding import load_published, split_terms\n"
                     "def f(p):\n    np.save(p, 1)\n    np.savetxt(p, [1])\n    return pd.read_csv(p)\n", encoding="utf-8")
    assert _file_access(probe) == [
        "import os.path", "from casemeta import atomic_io", "from casemeta.coded.codebook import load_codebook",
        "from casemeta.coded.raw_coding import load_published", "line 8: save(...)", "line 9: savetxt(...)",
        "line 10: read_csv(...)"]


CODED = Path(casemeta.__file__).parent / "coded"
# the bottom layer: besides itself, only the helpers every layer may use
BELOW_CODED = ("casemeta.coded", "casemeta.errors", "casemeta.atomic_io")


def _upward_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module if node.module != "casemeta" else f"casemeta.{a.name}" for a in node.names]
        else:
            continue
        found += [m for m in modules if m.split(".")[0] == "casemeta"
                  and not any(m == b or m.startswith(b + ".") for b in BELOW_CODED)]
    return found


def test_the_coded_layer_imports_nothing_above_it():
    modules = sorted(CODED.rglob("*.py"))
    assert any(p.name == "case_entry.py" for p in modules)
    offenders = {p.name: found for p in modules if (found := _upward_imports(p))}
    assert offenders == {}


def test_the_upward_check_finds_an_upward_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from casemeta import atomic_io, plan\nfrom casemeta.coded.codebook import Codebook\n"
                     "from casemeta.study import Study\nimport casemeta.stats.caveats\nfrom casemeta.errors import CasemetaError\n",
                     encoding="utf-8")
    assert _upward_imports(probe) == ["casemeta.plan", "casemeta.study", "casemeta.stats.caveats"]


def test_the_heavy_test_files_scheduled_first_exist():
    """conftest.HEAVY_FIRST names files (xdist hands them out first): a renamed file would silently drop out."""
    from conftest import HEAVY_FIRST

    tests = Path(__file__).resolve().parent
    assert [name for name in HEAVY_FIRST if not (tests / name).is_file()] == []
