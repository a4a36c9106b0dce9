"""Every benchmark script rewrites only its own section of BENCHMARKS.md."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from sections import replace_section  # noqa: E402

TEXT = "# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nkeep b\n"


def test_a_section_is_replaced_and_the_others_kept():
    assert replace_section(TEXT, "## A", "new a") == "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nkeep b\n"
    assert replace_section(TEXT, "## B", "new b\n") == "# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nnew b\n"


def test_a_new_section_is_appended():
    assert replace_section(TEXT, "## C", "c") == TEXT + "\n## C\n\nc\n"


def test_the_file_has_a_section_per_script():
    headings = [line for line in (ROOT / "BENCHMARKS.md").read_text().splitlines() if line.startswith("## ")]
    assert {"## Firth fits against plain Logit", "## Full Firth inference", "## Boolean minimisation (QCA)"} <= set(headings)
