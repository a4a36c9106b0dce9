"""The end of a failed run repeats what its failed jobs logged: each error once, and names a failed job whose log
holds none."""

import os

from casemeta.run_report import HEAD_LINES, TAIL_LINES, changed_logs, state, summary

REPORT = ["casemeta: error: data/coded/s/cases.csv: 1 problem(s) against the codebook data/coded/s/codebook.yaml",
          "  - data/coded/s/cases.csv: line 4 (case 'a'), column 'x': value '7' is not allowed; expected one of 0, 1"]


def write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_one_error_logged_by_two_jobs_is_shown_once_and_a_job_with_none_is_named(tmp_path):
    logs = tmp_path / "logs"
    validate, check, killed = logs / "validate_cases" / "s.log", logs / "check_coding" / "s.log", logs / "derive" / "s.log"
    write(validate, ["10:00:01 casemeta: data/coded/s/cases.csv: 25 row(s) read", "10:00:02 " + REPORT[0], REPORT[1]])
    write(check, ["10:00:03 " + REPORT[0], REPORT[1]])
    write(killed, ["10:00:04 casemeta: data/coded/s/cases.csv: 25 row(s) read"])  # killed after this line
    jobs = [("validate_cases (study=s)", [validate]), ("check_coding (study=s)", [check]),
            ("derive_variables (study=s)", [killed])]
    lines = summary(jobs, tmp_path).splitlines()
    assert lines[:4] == ["3 job(s) of this run failed; what they logged (each error once):",
                         "logs/check_coding/s.log, logs/validate_cases/s.log:", "    " + REPORT[0], "    " + REPORT[1]]
    assert lines[4].startswith("derive_variables (study=s) (logs/derive/s.log): no error in its log; Snakemake's lines "
                               "about it above say how it ended") and len(lines) == 5


def test_where_the_logs_stand_for_the_jobs_only_those_this_run_wrote_and_holding_an_error_count(tmp_path):
    logs = tmp_path / "logs"
    old = logs / "models" / "s.log"
    write(old, ["09:00:00 casemeta: error: an error of an earlier run"])
    before = state(logs)
    write(logs / "export" / "s.log", ["10:00:00 casemeta: error: plan: no variable 'y'",
                                      "10:00:01 casemeta: removed results/s/tables"])  # a record after it: not the error's
    write(logs / "derive" / "s.log", ["10:00:00 casemeta: 25 case(s) derived"])  # succeeded: not shown
    assert summary(changed_logs(logs, before), tmp_path, failed=False).splitlines() == [
        "1 job(s) of this run failed; what they logged (each error once):", "logs/export/s.log:",
        "    casemeta: error: plan: no variable 'y'"]
    # the old log rewritten by this run (another size), even with its old time, is read
    write(old, ["09:00:00 casemeta: error: an error of this run, longer"])
    os.utime(old, ns=(before[old][0], before[old][0]))
    assert old in [logs_[0] for _, logs_ in changed_logs(logs, before)]
    assert changed_logs(tmp_path / "none", {}) == [] and summary([], tmp_path) == ""


def test_a_long_traceback_keeps_its_first_and_last_lines(tmp_path):
    log = tmp_path / "logs" / "qca" / "s.log"
    trace = [f"  File 'x.py', line {i}" for i in range(30)] + ["KeyError: 'c'"]
    write(log, ["10:00:00 casemeta: internal error in `casemeta qca-study`; please report it", *trace])
    lines = summary([("qca (study=s)", [log])], tmp_path).splitlines()
    assert lines[1] == "logs/qca/s.log:" and len(lines) == 2 + HEAD_LINES + 1 + TAIL_LINES
    assert lines[2] == "    casemeta: internal error in `casemeta qca-study`; please report it"
    assert lines[2 + HEAD_LINES] == f"    ... {32 - HEAD_LINES - TAIL_LINES} line(s) more in the log ..."
    assert lines[-1] == "    KeyError: 'c'"  # what was raised, last
