"""Adding coded cases: from template to data file, and nothing lost on any failure.

Every case added here is SYNTHETIC, made up for the test in a temporary copy of
the project; none is a real cluster.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

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


def test_new_case_command_will_not_overwrite(project, tmp_path, capsys):
    out = tmp_path / "case.yaml"
    assert main(["--root", str(project), "new-case", "--study", "african_clusters", "--out", str(out)]) == 0
    assert main(["--root", str(project), "new-case", "--study", "african_clusters", "--out", str(out)]) == 1
    assert "exists already" in capsys.readouterr().err


def test_a_filled_template_is_appended_and_earlier_bytes_stay_as_they_were(study, tmp_path):
    before = study.cases_path.read_bytes()
    assert add_cases(study, synthetic_case(tmp_path)) == 1
    after = study.cases_path.read_bytes()
    assert after.startswith(before)
    assert after[len(before):] == b"synthetic_test_cluster,Synthetica,Synthetic Test Cluster (not real),1,0,0,1,1,0,1,1,0,0,1,0,0,0,1,0\n"
    assert len(load_cases(study.cases_path, study.codebook())) == 26


def test_a_csv_of_several_cases_is_added(study, tmp_path):
    rows = [",".join(map(str, {**SYNTHETIC, "case_id": f"synthetic_{i}"}.values())) for i in range(3)]
    path = tmp_path / "new.csv"
    path.write_text(",".join(SYNTHETIC) + "\n" + "\n".join(rows) + "\n")
    assert add_cases(study, path) == 3


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
        add_cases(study, synthetic_case(tmp_path, name="kenya_ngong_furniture"))
    assert study.cases_path.read_bytes() == before


def test_a_crash_before_the_rename_loses_nothing(study, tmp_path, monkeypatch):
    before = study.cases_path.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(atomic_io.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        add_cases(study, synthetic_case(tmp_path))
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
