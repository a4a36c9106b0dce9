"""Bad coded data gets a message naming file, line, case, column, value and what was expected,
and the validation step writes nothing."""

import pytest

from casemeta.cli import main

CASES = "data/coded/african_clusters/cases.csv"


def corrupt(project, edit):
    path = project / CASES
    data = path.read_bytes()
    path.write_bytes(edit(data))
    return path


def validate(project, capsys):
    out = project / "results" / "validated.csv"
    code = main(["--root", str(project), "validate", "--study", "african_clusters", "--out", str(out)])
    return code, capsys.readouterr().err, out


def _set_cell(data: bytes, case: bytes, column_index: int, value: bytes) -> bytes:
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(case + b","):
            cells = line.split(b",")
            cells[column_index] = value
            lines[i] = b",".join(cells)
    return b"\n".join(lines)


def test_unknown_category(project, capsys):
    # column 7 is `growth`; line 9 of the file is Ngong Furniture
    corrupt(project, lambda d: _set_cell(d, b"kenya_ngong_furniture", 7, b"yes"))
    code, err, out = validate(project, capsys)
    assert code == 1
    assert f"{project / CASES}: line 9 (case 'kenya_ngong_furniture'), column 'growth': value 'yes' is not allowed; expected one of 0, 1" in err
    assert not out.exists()


def test_every_problem_is_reported_at_once(project, capsys):
    def two_errors(d):
        d = _set_cell(d, b"kenya_ngong_furniture", 7, b"2")
        return _set_cell(d, b"uganda_fish_processing", 16, b"")
    corrupt(project, two_errors)
    code, err, _ = validate(project, capsys)
    assert "column 'growth': value '2' is not allowed" in err
    assert "(case 'uganda_fish_processing'), column 'support_government': the cell is empty; expected one of 0, 1" in err


def test_duplicate_case_id(project, capsys):
    corrupt(project, lambda d: d.replace(b"kenya_ngong_furniture,", b"kenya_gikomba_furniture,"))
    code, err, out = validate(project, capsys)
    assert code == 1
    assert "line 8 (case 'kenya_gikomba_furniture'), column 'case_id': value 'kenya_gikomba_furniture' is used by more than one case" in err
    assert "line 9 (case 'kenya_gikomba_furniture')" in err
    assert not out.exists()


def test_missing_column(project, capsys):
    def drop_last_column(d):
        return b"\n".join(b",".join(line.split(b",")[:-1]) for line in d.split(b"\n") if line) + b"\n"
    corrupt(project, drop_last_column)
    code, err, out = validate(project, capsys)
    assert code == 1
    assert "column 'support_external' is missing; the codebook requires it (one of 0, 1)" in err
    assert not out.exists()


def test_empty_file(project, capsys):
    corrupt(project, lambda d: b"")
    code, err, out = validate(project, capsys)
    assert code == 1
    assert "the file is empty; expected a header line with the columns case_id, country, cluster" in err
    assert not out.exists()


def test_wrong_delimiter(project, capsys):
    corrupt(project, lambda d: d.replace(b",", b";"))
    code, err, out = validate(project, capsys)
    assert code == 1
    assert "line 1: it looks separated by ';'; expected ','-separated columns case_id, country" in err
    assert not out.exists()


def test_non_utf8_bytes(project, capsys):
    corrupt(project, lambda d: d.replace("Ngong Furniture".encode(), "Ngong Furnitüre".encode("latin-1")))
    code, err, out = validate(project, capsys)
    assert code == 1
    assert "line 9: bytes fc are not UTF-8; expected a UTF-8 encoded CSV" in err
    assert not out.exists()


def test_failed_validation_removes_stale_results(project, capsys):
    stale = project / "results" / "african_clusters"
    stale.mkdir(parents=True)
    (stale / "reproduction.csv").write_text("from an earlier run")
    corrupt(project, lambda d: b"")
    (stale / "tables").mkdir()
    (stale / "tables" / "cases.csv").write_text("from an earlier run")
    code = main(["--root", str(project), "validate", "--study", "african_clusters", "--invalidate"])
    assert code == 1
    assert not (stale / "reproduction.csv").exists() and not (stale / "tables").exists()


@pytest.mark.parametrize("study", ["no_such_study"])
def test_unknown_study_names_the_known_ones(project, capsys, study):
    assert main(["--root", str(project), "validate", "--study", study]) == 1
    assert "unknown study 'no_such_study'" in capsys.readouterr().err


def test_validation_of_every_study_lists_each_studys_problems_under_its_own_line(project, capsys):
    corrupt(project, lambda d: d.replace(b"kenya_ngong_furniture,Kenya,Ngong Furniture,1", b"kenya_ngong_furniture,Kenya,Ngong Furniture,maybe"))
    other = project / "data" / "coded" / "pipkin_fuentes" / "cases.csv"
    header = other.read_text(encoding="utf-8").splitlines()[0]
    other.write_text(header + "\n" + "x_case," + ",".join(["x"] * (header.count(","))) + "\n", encoding="utf-8")
    assert main(["--root", str(project), "validate"]) == 1
    lines = capsys.readouterr().err.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("error: validation failed"))
    report = lines[start + 1:]
    heads = [i for i, line in enumerate(report) if line.startswith("  - ")]  # one per study, its problems below it
    assert len(heads) == 2 and "african_clusters/cases.csv" in report[heads[0]] and "pipkin_fuentes" in report[heads[1]]
    assert "problem(s) against the codebook" in report[heads[0]] and "problem(s) against the codebook" in report[heads[1]]
    assert all(line.startswith("      - ") for i, line in enumerate(report) if i not in heads)
    assert any("column 'market_local': value 'maybe' is not allowed" in line for line in report[heads[0] + 1:heads[1]])
