"""The end of a failed run repeats what its failed steps logged: each error once, only from logs this run wrote."""

import os

from casemeta.run_report import SHOWN_LINES, failures, state, summary

REPORT = ["casemeta: error: data/coded/s/cases.csv: 1 problem(s) against the codebook data/coded/s/codebook.yaml",
          "  - data/coded/s/cases.csv: line 4 (case 'a'), column 'x': value '7' is not allowed; expected one of 0, 1"]


def write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_one_error_logged_by_two_steps_is_shown_once_with_both_logs(tmp_path):
    logs = tmp_path / "logs"
    before = state(logs)  # no logs yet
    write(logs / "validate_cases" / "s.log", ["10:00:01 casemeta: data/coded/s/cases.csv: 25 row(s) read",
                                              "10:00:02 " + REPORT[0], REPORT[1]])
    write(logs / "check_coding" / "s.log", ["10:00:03 " + REPORT[0], REPORT[1]])
    found = failures(logs, before)
    assert found == [([logs / "check_coding" / "s.log", logs / "validate_cases" / "s.log"], "\n".join(REPORT))]
    text = summary(found, tmp_path)
    assert text.splitlines() == ["2 step(s) of this run failed; what they logged (each error once):",
                                 "logs/check_coding/s.log, logs/validate_cases/s.log:",
                                 "    " + REPORT[0], "    " + REPORT[1]]


def test_logs_as_they_were_at_the_start_and_lines_after_the_error_are_left_out(tmp_path):
    logs = tmp_path / "logs"
    old = logs / "models" / "s.log"
    write(old, ["09:00:00 casemeta: error: an error of an earlier run"])
    before = state(logs)
    write(logs / "export" / "s.log", ["10:00:00 casemeta: error: plan: no variable 'y'",
                                      "10:00:01 casemeta: removed results/s/tables"])  # a record after it: not the error's
    assert failures(logs, before) == [([logs / "export" / "s.log"], "casemeta: error: plan: no variable 'y'")]
    # the same log rewritten by this run (another size), even with its old time, is read
    write(old, ["09:00:00 casemeta: error: an error of this run, longer"])
    os.utime(old, ns=(before[old][0], before[old][0]))
    assert [paths for paths, _ in failures(logs, before)] == [[logs / "export" / "s.log"], [old]]


def test_a_long_traceback_is_cut_and_no_error_gives_nothing(tmp_path):
    logs = tmp_path / "logs"
    trace = [f"  File 'x.py', line {i}" for i in range(30)]
    write(logs / "qca" / "s.log", ["10:00:00 casemeta: internal error in `casemeta qca-study`; please report it", *trace])
    write(logs / "derive" / "s.log", ["10:00:00 casemeta: 25 case(s) derived"])
    found = failures(logs, {})
    assert len(found) == 1 and len(found[0][1].splitlines()) == 31
    lines = summary(found, tmp_path).splitlines()
    assert lines[1] == "logs/qca/s.log:" and len(lines) == 2 + SHOWN_LINES + 1
    assert lines[-1] == f"    ... {31 - SHOWN_LINES} more line(s) in the log"
    assert summary([], tmp_path) == "" and failures(tmp_path / "none", {}) == []
