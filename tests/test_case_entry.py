"""Adding coded cases: from template to data file, and nothing lost on any failure.

Every case added here is SYNTHETIC, made up for the test in a temporary copy of
the project; none is a real cluster.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
import uuid

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemeta import atomic_io
from casemeta.coded.case_entry import add_cases, case_template
from casemeta.coded.case_table import load_cases
from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.study import Study

SYNTHETIC = {
    "case_id": "synthetic_test_cluster", "country": "Synthetica", "cluster": "Synthetic Test Cluster (not real)",
    "market_local": 1, "market_national": 0, "market_regional": 0, "market_international": 1,
    "growth": 1, "upgrading": 0, "ee_labour": 1, "ee_suppliers": 1, "ee_customers": 0, "ee_specialisation": 0,
    "ja_learning": 1, "ja_marketing": 0, "ja_logistics": 0, "support_government": 0, "support_cluster": 1, "support_external": 0,
}


def synthetic_case(tmp_path, name="synthetic_test_cluster", **changes):
    case = {**SYNTHETIC, "case_id": name, **changes}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(case, sort_keys=False))
    return path


@pytest.fixture
def study(project):
    return Study(project, "african_clusters")


def test_template_lists_every_variable_with_allowed_values_and_description(clusters):
    text = case_template(clusters.codebook())
    for var in clusters.codebook().variables:
        assert f'\n{var.name}: ""\n' in text
    assert "# Growth: Evidence of sustained growth of the cluster." in text
    assert "# Expected: one of 0, 1." in text
    assert set(yaml.safe_load(text)) == set(clusters.codebook().coded_columns)


def test_templates_and_forms_show_coders_descriptions_not_internal_notes(root, tmp_path):
    """Issue 20: the case template showed the codebook's internal notes ("(seed 001)"). A variable's `notes`
    (and a value's) are for the project team: neither the YAML template nor the xlsx coding form shows them."""
    import dataclasses

    from openpyxl import load_workbook

    from casemeta.coded.codebook import load_codebook
    from casemeta.publish.coding_forms import write_form

    pipkin = load_codebook(root / "data/coded/pipkin_fuentes/codebook.yaml")
    process = pipkin.variable("upgrading_process")
    assert process.notes.startswith("Definition from seed 001") and "seed" not in process.description
    for codebook in (pipkin, load_codebook(root / "data/coded/african_clusters/codebook.yaml")):
        assert "seed 0" not in case_template(codebook)
    # a made-up note on a variable and on one of its values, in the shipped codebook of african_clusters
    clusters = load_codebook(root / "data/coded/african_clusters/codebook.yaml")
    noted = tuple(dataclasses.replace(v, notes="INTERNAL-NOTE-V", values=tuple(
        dataclasses.replace(c, notes="INTERNAL-NOTE-C") for c in v.values)) for v in clusters.variables)
    clusters = dataclasses.replace(clusters, variables=noted)
    template = case_template(clusters)
    assert "INTERNAL-NOTE" not in template and "# Availability of Labour Supply: External economy from a pool of skilled labour" in template
    write_form(clusters, tmp_path / "form.xlsx", 2)
    book = load_workbook(tmp_path / "form.xlsx")
    cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    comments = [c.comment.text for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.comment]
    validations = [f"{dv.prompt} {dv.error}" for sheet in book.worksheets for dv in sheet.data_validations.dataValidation]
    assert not [t for t in cells + comments + validations if "INTERNAL-NOTE" in t]
    assert any("External economy from a pool of skilled labour" in t for t in cells + validations)


def test_new_case_command_will_not_overwrite(project, tmp_path, capsys):
    out = tmp_path / "case.yaml"
    assert main(["--root", str(project), "new-case", "--study", "african_clusters", "--out", str(out)]) == 0
    assert main(["--root", str(project), "new-case", "--study", "african_clusters", "--out", str(out)]) == 1
    assert "exists already" in capsys.readouterr().err


def test_a_filled_template_is_appended_and_earlier_bytes_stay_as_they_were(study, tmp_path):
    before = study.cases_path.read_bytes()
    assert add_cases(study.codebook(), study.cases_path, synthetic_case(tmp_path)) == 1
    after = study.cases_path.read_bytes()
    assert after.startswith(before)
    assert after[len(before):] == b"synthetic_test_cluster,Synthetica,Synthetic Test Cluster (not real),1,0,0,1,1,0,1,1,0,0,1,0,0,0,1,0\n"
    assert len(load_cases(study.cases_path, study.codebook())) == 26


def test_a_csv_of_several_cases_is_added(study, tmp_path):
    rows = [",".join(map(str, {**SYNTHETIC, "case_id": f"synthetic_{i}"}.values())) for i in range(3)]
    path = tmp_path / "new.csv"
    path.write_text(",".join(SYNTHETIC) + "\n" + "\n".join(rows) + "\n")
    assert add_cases(study.codebook(), study.cases_path, path) == 3


def test_an_invalid_add_names_every_problem_and_changes_no_byte(study, tmp_path, capsys):
    before = study.cases_path.read_bytes()
    bad = synthetic_case(tmp_path, growth="yes", support_cluster=2)
    code = main(["--root", str(study.root), "add-case", "--study", "african_clusters", str(bad)])
    err = capsys.readouterr().err
    assert code == 1
    # safe_dump writes one field per line in SYNTHETIC's order: growth is the 8th, support_cluster the 18th
    assert f"{bad}: line 8, field 'growth': value 'yes' is not allowed; expected one of 0, 1" in err
    assert f"{bad}: line 18, field 'support_cluster': value '2' is not allowed; expected one of 0, 1" in err
    assert study.cases_path.read_bytes() == before


def test_a_duplicate_case_id_is_refused_and_changes_no_byte(study, tmp_path):
    before = study.cases_path.read_bytes()
    with pytest.raises(CasemetaError, match="line 1, field 'case_id': case 'kenya_ngong_furniture' is already coded in"):
        add_cases(study.codebook(), study.cases_path, synthetic_case(tmp_path, name="kenya_ngong_furniture"))
    assert study.cases_path.read_bytes() == before


def test_a_bad_value_and_an_already_coded_id_are_reported_together(study, tmp_path):
    before = study.cases_path.read_bytes()
    bad = synthetic_case(tmp_path, name="kenya_ngong_furniture", growth="yes")
    with pytest.raises(CasemetaError) as err:
        add_cases(study.codebook(), study.cases_path, bad)
    assert err.value.summary.startswith(f"{bad}: 2 problem(s), against the codebook ")
    assert err.value.problems == [
        f"{bad}: line 8, field 'growth': value 'yes' is not allowed; expected one of 0, 1",
        f"{bad}: line 1, field 'case_id': case 'kenya_ngong_furniture' is already coded in {study.cases_path}; "
        "choose a new case_id, or edit the existing row",
    ]
    assert study.cases_path.read_bytes() == before


def test_a_crash_before_the_rename_loses_nothing(study, tmp_path, monkeypatch):
    before = study.cases_path.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(atomic_io.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        add_cases(study.codebook(), study.cases_path, synthetic_case(tmp_path))
    assert study.cases_path.read_bytes() == before
    assert [p.name for p in study.coded_dir.iterdir() if p.name.endswith(".tmp")] == []


def _add_command(study, case):
    return [sys.executable, "-m", "casemeta.cli", "--root", str(study.root), "add-case", "--study", "african_clusters", str(case)]


def test_two_concurrent_adds_both_land(study, tmp_path):
    cases = [synthetic_case(tmp_path, name=f"synthetic_concurrent_{i}") for i in range(2)]
    procs = [subprocess.Popen(_add_command(study, c), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in cases]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    ids = set(load_cases(study.cases_path, study.codebook())["case_id"])
    assert {"synthetic_concurrent_0", "synthetic_concurrent_1"} <= ids
    assert len(ids) == 27


def test_a_process_killed_during_an_add_loses_nothing(study, tmp_path):
    """SIGKILL at a range of moments: the file is always the old one or the old one plus the case."""
    before = study.cases_path.read_bytes()
    case = synthetic_case(tmp_path)
    outcomes = []
    for delay in (0.05, 0.3, 0.5, 0.7, 0.9, 1.1, 1.4, None):  # None: let it finish
        proc = subprocess.Popen(_add_command(study, case), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if delay is not None:
            time.sleep(delay)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=120)
        now = study.cases_path.read_bytes()
        assert now in (before, before + case_row_bytes()), f"garbled after {delay} s"
        load_cases(study.cases_path, study.codebook())  # still valid
        outcomes.append(now != before)
        study.cases_path.write_bytes(before)
    assert outcomes[0] is False  # killed at 50 ms, long before Python has even imported pandas
    assert outcomes[-1] is True  # not killed: the case is added


def case_row_bytes():
    return b"synthetic_test_cluster,Synthetica,Synthetic Test Cluster (not real),1,0,0,1,1,0,1,1,0,0,1,0,0,0,1,0\n"


# ---- one locked, atomic writer for data/coded/, whatever the path looks like ---------------------------

def _hold_lock(path):
    """Another process holding a kernel lock on `path` until it is killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); time.sleep(60)", str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


@pytest.mark.parametrize("command", ["add-case", "code"])
def test_add_case_and_code_wait_for_the_same_lock(study, tmp_path, monkeypatch, capsys, command):
    """`code` used to rewrite cases.csv without the lock that add-case takes, losing adds made meanwhile."""
    monkeypatch.setattr(atomic_io, "LOCK_TIMEOUT_SECONDS", 0.5)
    before = study.cases_path.read_bytes()
    holder = _hold_lock(study.coded_dir / ".cases.csv.lock")
    try:
        extra = [str(synthetic_case(tmp_path))] if command == "add-case" else []
        code = main(["--root", str(study.root), command, "--study", "african_clusters", *extra])
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert f"{study.cases_path}: another command has held its lock" in capsys.readouterr().err
    assert study.cases_path.read_bytes() == before


@pytest.mark.parametrize("command", ["add-case", "code"])
def test_a_symlinked_cases_file_has_its_target_updated_and_locked(study, tmp_path, capsys, command):
    """The link stays a link; the target is replaced, under a lock beside the target, not beside the link."""
    target = tmp_path / "shared" / "clusters.csv"
    target.parent.mkdir()
    # a case that `code` must keep, and a file `code` must rewrite (it orders the coded cases first)
    target.write_bytes(study.cases_path.read_bytes() + case_row_bytes())
    study.cases_path.unlink()
    study.cases_path.symlink_to(target)
    extra = [str(synthetic_case(tmp_path, name="synthetic_symlinked"))] if command == "add-case" else []
    assert main(["--root", str(study.root), command, "--study", "african_clusters", *extra]) == 0, capsys.readouterr().err
    assert study.cases_path.is_symlink() and study.cases_path.resolve() == target
    ids = list(load_cases(target, study.codebook())["case_id"])
    assert "synthetic_test_cluster" in ids
    assert ("synthetic_symlinked" in ids) == (command == "add-case")
    assert (target.parent / ".clusters.csv.lock").exists()
    assert not (study.coded_dir / ".cases.csv.lock").exists()


def test_code_keeps_added_cases_byte_for_byte(study, tmp_path):
    """Added rows are kept as typed (not re-rendered from parsed numbers), and the coded rows are unchanged."""
    before = study.cases_path.read_bytes()
    row = b'synthetic_kept, Synthetica ,"Kept, as ""typed""\nover two lines",1,0,0,1,1,0,1,1,0,0,1,0,0,0,1,0\n'
    study.cases_path.write_bytes(before + row)
    main(["--root", str(study.root), "code", "--study", "african_clusters"])
    assert study.cases_path.read_bytes() == before + row


# ---- every value that validation accepts reads back as it was -----------------------------------------

TRICKY = ["a\nb", 'say "hi"', "a,b", " leading", "trailing ", "\ttab", "two\n\nbreaks\n", "ünï©ødé ✓", "=1+2", "'quoted'"]


@pytest.mark.parametrize("value", TRICKY)
def test_an_accepted_value_reads_back_exactly(study, tmp_path, value):
    path = tmp_path / "case.yaml"
    path.write_text(f"case_id: synthetic_round_trip\ncluster: {json.dumps(value)}\n"
                    + "".join(f"{k}: '{v}'\n" for k, v in SYNTHETIC.items() if k not in ("case_id", "cluster")))
    add_cases(study.codebook(), study.cases_path, path)
    assert last_row(study.cases_path)["cluster"] == value


def last_row(path):
    """The file's last record as Python's csv module reads it (the reader spreadsheets and pandas agree with)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(min_size=1, max_size=12))
def test_validation_accepts_exactly_what_reads_back(study, tmp_path, value):
    """Refused: blank cells and control characters other than tab and newline; all else lands byte for byte."""
    path = tmp_path / "case.csv"
    frame = pd.DataFrame([{**SYNTHETIC, "case_id": f"synthetic_{uuid.uuid4().hex}", "cluster": value}], dtype=str)
    path.write_text(frame.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL), newline="")
    # the rule as documented: Unicode control characters (category Cc) other than tab and newline, and the
    # two non-characters U+FFFE and U+FFFF; a cell of only spaces is empty
    refused = any(unicodedata.category(c) == "Cc" and c not in "\t\n" or c in "\ufffe\uffff" for c in value)
    refused = refused or not value.strip()
    try:
        add_cases(study.codebook(), study.cases_path, path)
    except CasemetaError as exc:
        assert refused, str(exc)
        return
    assert not refused
    assert last_row(study.cases_path)["cluster"] == value


def test_add_case_names_the_cases_file_as_the_researcher_would_type_it(study, tmp_path, capsys, monkeypatch):
    """The message shows data/coded/... as seen from the project folder (README, "Coding a new case"), not an
    absolute path."""
    monkeypatch.chdir(study.root)
    assert main(["add-case", "--study", "african_clusters", str(synthetic_case(tmp_path))]) == 0
    assert capsys.readouterr().out.startswith("added 1 case(s) to data/coded/african_clusters/cases.csv; ")
