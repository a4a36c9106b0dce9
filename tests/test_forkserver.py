"""Warm jobs (casemeta.forkserver): a command forked from the run's warm process answers as it would in its own
process, ends with the job that asked for it, and runs in its own process whenever the server cannot stand in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casemeta import __version__, forkserver

pytestmark = pytest.mark.skipif(not forkserver.available(), reason="warm jobs need Linux (fork and file-descriptor passing)")

# a job's environment as Snakemake makes it: one thread for each numeric library
JOB_ENV = {name: "1" for name in forkserver.THREAD_VARS}


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A warm process started by this test process, as a run's onstart starts one; stopped afterwards."""
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # pytest changes it at each phase of a test: not a job's
    log = tmp_path / "warm.log"
    handle = forkserver.start(log)
    assert handle is not None and os.environ[forkserver.ENV_VAR] == handle.socket
    monkeypatch.setenv(forkserver.ENV_VAR, handle.socket)  # restored after the test
    wait_for(lambda: os.path.exists(handle.socket), "the server to listen")
    handle.log = log
    yield handle
    handle.stop()


def wait_for(condition, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def job_env(**extra: str) -> dict[str, str]:
    """The environment of a job of the run that started the server (this test process)."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, **JOB_ENV, **extra}


def casemeta(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["casemeta", *args], capture_output=True, text=True, timeout=120, env=job_env(**(env or {})),
                          **kwargs)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the jobs forked by the server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


# a process's state letter in /proc (S sleeping, T stopped, Z ended but not reaped ...), '' once it is gone
state = forkserver._state


def alive(pid: int) -> bool:
    return state(pid) not in ("", "Z")


def served(handle) -> tuple[int, int]:
    """(jobs forked from the server, jobs it refused: each ran in its own process), from the log it writes when it
    stops."""
    return stop_counts(handle)[:2]


def stop_counts(handle) -> tuple[int, int, int]:
    """served(), and the jobs no longer waiting when their turn came."""
    handle.stop()
    line = [ln for ln in handle.log.read_text().splitlines() if "stopped:" in ln][-1]
    words = line.split("stopped:")[1].split()
    return int(words[0]), int(words[5]), int(words[13])


def test_a_forked_command_answers_as_in_its_own_process(server, tmp_path):
    """Exit status, standard output and standard error are the job's, whether the command succeeds, is refused by
    argparse or fails on a file: the same three answers with and without the server."""
    missing = tmp_path / "no_such_coder.csv"
    calls = [("--version",), ("reliability", str(missing), str(missing), "--out", str(tmp_path / "agreement.csv")),
             ("qca", "--incl-cut", "abc"), ("no-such-command",)]
    warm = [casemeta(*args) for args in calls]
    cold = [casemeta(*args, env={forkserver.ENV_VAR: ""}) for args in calls]
    assert [(r.returncode, r.stdout, r.stderr) for r in warm] == [(r.returncode, r.stdout, r.stderr) for r in cold]
    assert [r.returncode for r in warm] == [0, 1, 1, 2]  # a bad option value is casemeta's refusal; a bad command argparse's
    assert warm[0].stdout == f"casemeta {__version__}\n"
    assert "no_such_coder.csv" in warm[1].stderr and "abc" in warm[2].stderr and "no-such-command" in warm[3].stderr
    assert served(server) == (4, 0), server.log.read_text()
    # the log gives each job's exit status (a successful job's job ends right after its child reports: never a kill)
    logged = [json.loads(line.split(" job ", 1)[1]) for line in server.log.read_text().splitlines() if " job {" in line]
    assert sorted(record["exit"] for record in logged) == [0, 1, 1, 2] and all("killed" not in r for r in logged)


def test_the_job_works_in_its_own_folder_and_writes_with_its_umask(server, tmp_path):
    """A relative path is the job's (its working folder), and a file it writes has the permissions its umask gives."""
    for name, codes in (("a.csv", "1,0,1,1"), ("b.csv", "1,1,1,0")):
        (tmp_path / name).write_text("case_id,growth\n" + "".join(f"c{i},{c}\n" for i, c in enumerate(codes.split(","))))
    run = casemeta("reliability", "a.csv", "b.csv", "--out", "agreement.csv", cwd=tmp_path,
                   preexec_fn=lambda: os.umask(0o077))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "agreement.csv").stat().st_mode & 0o777 == 0o600
    assert served(server) == (1, 0)


def test_a_job_whose_environment_differs_runs_in_its_own_process(server, tmp_path):
    """Two BLAS threads (a rule with `threads: 2`): the server's libraries were loaded for one, so it refuses; the job
    still answers, from its own process, and the log says why."""
    run = casemeta("--version", env={"OPENBLAS_NUM_THREADS": "2"})
    assert (run.returncode, run.stdout) == (0, f"casemeta {__version__}\n")
    assert served(server) == (0, 1)
    assert "environment variable OPENBLAS_NUM_THREADS differs" in server.log.read_text()


@pytest.fixture
def prompt(monkeypatch):
    """The prompt an activated virtual or conda environment exports, in the run's environment (before the server)."""
    monkeypatch.setenv("PS1", "(casemeta) $ ")
    monkeypatch.setenv("PS2", "> ")


def test_a_prompt_the_jobs_shell_drops_does_not_keep_jobs_from_the_server(prompt, server):
    """Snakemake runs a job's command in bash, which drops PS1 and PS2 when it is not interactive: the server, which
    has them from the run, serves the job all the same (it refused every job of a run started from an activated
    environment, a newcomer found)."""
    run = subprocess.run(["bash", "-c", "casemeta --version"], capture_output=True, text=True, timeout=120, env=job_env())
    assert (run.returncode, run.stdout) == (0, f"casemeta {__version__}\n")
    assert served(server) == (1, 0), server.log.read_text()


def test_a_job_on_a_cluster_node_never_asks(server):
    run = casemeta("--version", env={"SLURM_JOB_ID": "17"})
    assert run.returncode == 0
    assert served(server) == (0, 0)


def launch_blocked(tmp_path, sigint=signal.SIG_DFL, block=()) -> subprocess.Popen:
    """A job that waits: its command reads a named pipe no one writes to. It starts with SIGINT as `sigint` says and
    the other signals a job passes on at their defaults, not as this test process has them (SIGINT ignored where
    the suite runs in the background of a script, SIGHUP under nohup: the job would then rightly ignore them), and
    with the signals in `block` blocked."""
    fifo = tmp_path / "coder.csv"
    os.mkfifo(fifo)

    def signals():
        for name in forkserver.FORWARDED:
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, sigint)
        signal.pthread_sigmask(signal.SIG_SETMASK, block)

    return subprocess.Popen(["casemeta", "reliability", str(fifo), str(fifo), "--out", str(tmp_path / "out.csv")],
                            env=job_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=signals)


def ended(job: subprocess.Popen, timeout: float = 20.0):
    """The job's exit status once it has ended, or "still running". A SIGINT that lands just before the command's
    blocking open of the named pipe waits in Python until that open returns: CPython runs its handler (raises
    KeyboardInterrupt) between bytecodes and when a system call is interrupted, and an open entered after the signal
    arrived is never interrupted. That race is any Python process's, warm job or not (measured outside casemeta: 2
    SIGINTs of 300 held so, with the signal sent by another process as a terminal sends it). So after 3 s the pipe
    is opened for writing once: the open returns, and a held KeyboardInterrupt is raised; a signal that was truly
    lost lets the command go on to read an empty file, which it refuses (exit status 1, not death by the signal)."""
    try:
        return job.wait(timeout=3)
    except subprocess.TimeoutExpired:
        pass
    fifo = Path(job.args[2])
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # succeeds only while a reader waits in its open
    except OSError:
        pass
    try:
        return job.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return "still running"


def signal_mask(pid: int, field: str = "SigBlk") -> int:
    """One of the process's signal masks in /proc (SigBlk blocked, SigIgn ignored, SigCgt caught); 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(next(ln for ln in status.splitlines() if ln.startswith(field + ":")).split()[1], 16)


def catches(pid: int, signum: int) -> bool:
    """The process has a handler of its own for the signal."""
    return bool(signal_mask(pid, "SigCgt") >> (signum - 1) & 1)


def start_blocked(server, tmp_path, sigint=signal.SIG_DFL, block=()):
    """A blocked job (launch_blocked) and its child forked by the server, once the job's process passes signals on
    (it catches SIGTSTP only then): (job process, child pid)."""
    job = launch_blocked(tmp_path, sigint, block)
    child = wait_for(lambda: children(server.process.pid), "the server to fork the job")[0]
    wait_for(lambda: catches(job.pid, signal.SIGTSTP), "the job's process to pass signals on")
    return job, child


def forked_now(server) -> list[int]:
    """The server's children, polled without a pause (the tests of the hand-over act right after the fork)."""
    deadline = time.monotonic() + 20
    while not (forked := children(server.process.pid)) and time.monotonic() < deadline:
        pass
    return forked


@pytest.fixture
def blocked(server, tmp_path):
    job, child = start_blocked(server, tmp_path)
    yield job, child
    job.kill()
    job.wait()
    try:  # a failed test must not leave a stopped child behind
        os.kill(child, signal.SIGKILL)
    except OSError:
        pass


def diagnosis(job: subprocess.Popen, child: int) -> str:
    """For a failed test: how the job's process and its child treat signals, where they wait, what the job said."""
    lines = []
    for name, pid in (("job", job.pid), ("child", child)):
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            wchan = Path(f"/proc/{pid}/wchan").read_text()
        except OSError:
            lines.append(f"{name} {pid}: gone")
            continue
        lines.append(f"{name} {pid}: " + "; ".join(ln for ln in status if ln.startswith(("State", "Sig", "Shd", "Threads")))
                     + f"; waits in {wchan}")
        for task in sorted(Path(f"/proc/{pid}/task").glob("*")):  # each thread: the child's watch thread, if it runs
            try:
                own = [ln for ln in (task / "status").read_text().splitlines() if ln.startswith(("State", "SigPnd", "SigBlk"))]
                lines.append(f"  thread {task.name}: " + "; ".join(own) + f"; waits in {(task / 'wchan').read_text()}")
            except OSError:
                pass
    job.kill()
    try:  # the job's stderr may stay open elsewhere (passed to a warm process that is stopped): not waited for long
        said = job.communicate(timeout=5)[1].decode()[-3000:]
    except subprocess.TimeoutExpired:
        said = "(not closed within 5 s)"
    return "\n".join(lines) + "\nstderr: " + said


def test_a_job_outlasting_the_time_allowed_for_its_request_runs_on(tmp_path, monkeypatch):
    """The server gives a request a time limit to arrive (REQUEST_TIMEOUT; 1 s here); the child that reads the job's
    signals on the same connection waits for them as long as the job runs (it ended every job at that age: SIGTERM
    from itself)."""
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    handle = forkserver.start(tmp_path / "warm.log", request_timeout=1.0)
    monkeypatch.setenv(forkserver.ENV_VAR, handle.socket)
    try:
        wait_for(lambda: os.path.exists(handle.socket), "the server to listen")
        job, child = start_blocked(handle, tmp_path)
        time.sleep(2.5)
        assert job.poll() is None and alive(child)
        job.kill()
        job.wait()
    finally:
        handle.stop()


def test_the_child_blocks_the_signals_its_job_blocks(server, tmp_path):
    """A job started with signals blocked (inherited, as any process inherits its parent's mask): its child blocks
    the same ones, whatever the warm process had; none other (the job's process blocks them only while it hands over)."""
    job, child = start_blocked(server, tmp_path, block=(signal.SIGUSR2, signal.SIGWINCH))
    try:
        expected = 1 << (signal.SIGUSR2 - 1) | 1 << (signal.SIGWINCH - 1)
        assert signal_mask(job.pid) == expected
        # the child sets its mask first thing after the fork, but the server tells the job "started" from its own side
        # of the fork, so the job may pass signals on before the child has run at all (seen once under load: mask 0)
        wait_for(lambda: signal_mask(child) == expected, f"the child to block exactly {expected:#x}")
    finally:
        job.kill()
        job.wait()


def test_a_job_that_blocks_sigterm_killed_outright_leaves_no_child(server, tmp_path):
    """The child of a job started with SIGTERM blocked blocks it too: when the job is killed outright, the child,
    seeing the job gone, ends itself with SIGKILL (a SIGTERM would only wait, pending)."""
    job, child = start_blocked(server, tmp_path, block=(signal.SIGTERM,))
    job.kill()
    job.wait()
    wait_for(lambda: not alive(child), "the child to end", timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_while_the_job_waits_for_the_server_acts_at_once(server, tmp_path, signum):
    """The warm process is busy (here: stopped) when a job asks: the job holds the signals it would pass on while it
    waits, but one that would end it ends it at once, as in its own process; the server, going on, forks nothing
    for a job that has gone."""
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        job = launch_blocked(tmp_path)
        # waiting for the answer: the job's process blocks what it passes on
        wait_for(lambda: signal_mask(job.pid) >> (signal.SIGTERM - 1) & 1, "the job to wait for the server")
        job.send_signal(signum)
        try:
            code = job.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = "still running"
        assert code == -signum, diagnosis(job, job.pid)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        job.kill()
        job.wait()
    wait_for(lambda: "was no longer waiting" in server.log.read_text(), "the server to let the request go")
    assert stop_counts(server) == (0, 0, 1)


def test_a_job_whose_warm_process_died_dies_of_the_signal_it_passed_on(server, tmp_path):
    """The warm process killed outright (it alone reports a child's death by a signal): a job that passed SIGTERM
    on to its child, which died of it, dies of SIGTERM too, as in its own process."""
    job, child = start_blocked(server, tmp_path)
    server.process.kill()
    server.process.wait()
    job.send_signal(signal.SIGTERM)
    try:
        code = job.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = "still running"
    assert code == -signal.SIGTERM, diagnosis(job, child)
    wait_for(lambda: not alive(child), "the child to end", timeout=10)


def test_a_job_killed_outright_takes_its_forked_child_with_it(blocked):
    """Snakemake stops a job by signalling its process group, which the forked child is not in; a job killed with
    SIGKILL cannot pass anything on, so the child ends itself when the job's connection closes."""
    job, child = blocked
    job.kill()
    job.wait()
    wait_for(lambda: not alive(child), "the child to end", timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_job_reaches_its_child_and_the_job_dies_of_it(blocked, signum):
    job, child = blocked
    job.send_signal(signum)
    # as the job's own process would have (SIGINT: KeyboardInterrupt, then the signal); what the job said, if not
    code = ended(job)
    assert code == -signum, diagnosis(job, child)
    assert not alive(child)


def test_without_a_reachable_server_a_job_runs_in_its_own_process(server, tmp_path):
    """A server that died (kill -9) or a socket that is gone: the job runs as if there were none."""
    server.process.kill()
    server.process.wait()
    assert casemeta("--version").stdout == f"casemeta {__version__}\n"
    assert casemeta("--version", env={forkserver.ENV_VAR: str(tmp_path / "nothing.sock")}).returncode == 0


def test_a_server_whose_run_ended_stops_and_removes_its_socket(tmp_path):
    """A run killed outright cannot call stop(): the server notices that its parent is gone."""
    probe = ("import sys, time\nfrom casemeta import forkserver\nh = forkserver.start(sys.argv[1])\n"
             "print(h.process.pid, h.socket, flush=True)\ntime.sleep(0.5)\n")
    started = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "warm.log")], capture_output=True, text=True,
                             check=True, env={k: v for k, v in os.environ.items() if k != forkserver.ENV_VAR})
    pid, sock = started.stdout.split()
    wait_for(lambda: not alive(int(pid)), "the server to stop", timeout=15)
    assert not os.path.exists(sock) and not os.path.exists(os.path.dirname(sock))
    assert "the run that started this process has ended" in (tmp_path / "warm.log").read_text()


def test_a_server_started_unannounced_serves_no_job_and_writes_nothing_until_announced(tmp_path, monkeypatch):
    """The run's early start (workflow/rules/common.smk, while Snakemake reads the workflow): until `announce`, a job
    runs in its own process and nothing is at the log's path; then the jobs are forked from it, and the log holds
    what it wrote before (its start) and after. Announced at once (before it could set its handler), it lives."""
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    log = tmp_path / "logs" / "warm.log"
    handle = forkserver.start(log, announce=False)
    try:
        assert forkserver.ENV_VAR not in os.environ
        wait_for(lambda: os.path.exists(handle.socket), "the server to listen")
        assert casemeta("--version").stdout == f"casemeta {__version__}\n"
        assert not log.exists() and not log.parent.exists()
        assert handle.announce() and os.environ[forkserver.ENV_VAR] == handle.socket
        assert casemeta("--version").stdout == f"casemeta {__version__}\n"
        handle.log = log
        assert served(handle) == (1, 0)
        text = log.read_text()
        assert text.index(f"serving {handle.socket}") < text.index(' job {"argv": ["--version"]') < text.index("stopped:")
        assert not os.path.exists(handle.folder)
    finally:
        handle.stop()
    at_once = forkserver.start(tmp_path / "at_once.log", announce=False)
    try:
        assert at_once.announce()
        wait_for(lambda: os.path.exists(at_once.socket), "the server to listen")
        assert casemeta("--version").returncode == 0
        at_once.log = tmp_path / "at_once.log"
        assert served(at_once) == (1, 0)
    finally:
        at_once.stop()


def test_a_server_never_announced_leaves_no_trace(tmp_path, monkeypatch):
    """Stopped before any job (a run with nothing to do), or left when its run ends (a run whose jobs go to a
    cluster, killed): no log, no folder."""
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    handle = forkserver.start(tmp_path / "warm.log", announce=False)
    wait_for(lambda: os.path.exists(handle.socket), "the server to listen")
    handle.stop()
    assert not os.path.exists(handle.folder) and not (tmp_path / "warm.log").exists()
    probe = ("import sys, time\nfrom casemeta import forkserver\nh = forkserver.start(sys.argv[1], announce=False)\n"
             "print(h.process.pid, h.folder, flush=True)\ntime.sleep(0.5)\n")
    started = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "warm.log")], capture_output=True, text=True,
                             check=True)
    pid, folder = started.stdout.split()
    assert not alive(int(pid)) and not os.path.exists(folder)  # ended as its process exited, not some time later
    assert not (tmp_path / "warm.log").exists()


def test_a_run_whose_warm_log_cannot_be_written_says_so_and_runs_its_jobs_alone(tmp_path, monkeypatch, capsys):
    """logs/ unwritable (a file where its folder should be) once the early server is to be announced: the message
    reaches the run's terminal, as when none could start; no server is left."""
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    log = tmp_path / "logs" / "warm_jobs.log"
    early = forkserver.start(log, announce=False)
    (tmp_path / "logs").write_text("not a folder")
    assert forkserver.run_server(early, log) is None
    assert "warm jobs not started" in capsys.readouterr().err and forkserver.ENV_VAR not in os.environ
    assert not alive(early.process.pid) and not os.path.exists(early.folder)


def test_an_early_server_whose_folder_was_removed_is_replaced(tmp_path, monkeypatch):
    """A cleaner of temporary files removed its folder (socket and all) before the run announced it: a new server
    serves the run."""
    import shutil

    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    log = tmp_path / "warm.log"
    early = forkserver.start(log, announce=False)
    wait_for(lambda: os.path.exists(early.socket), "the server to listen")
    shutil.rmtree(early.folder)
    handle = forkserver.run_server(early, log)
    try:
        assert handle is not None and handle is not early and not alive(early.process.pid)
        wait_for(lambda: os.path.exists(handle.socket), "the new server to listen")
        assert casemeta("--version").returncode == 0
        handle.log = log
        assert served(handle) == (1, 0)
    finally:
        if handle is not None:
            handle.stop()


@pytest.mark.parametrize("argv, runs", [
    ([], True), (["--cores", "2"], True), (["-c2", "-p", "--config", "studies=african_clusters"], True),
    (["--executor", "local"], True), (["-j", "4", "-k"], True), (["-call"], True), (["-Uall"], True),
    (["-Rall", "-pk"], True), (["-elocal"], True),
    (["-n"], False), (["-np"], False), (["-pn"], False), (["--cores", "2", "--dry-run"], False), (["--lint"], False),
    (["--rulegraph"], False), (["--list-rules"], False), (["--summary"], False), (["--report=report.html"], False),
    (["--executor", "slurm"], False), (["--executor=slurm"], False), (["-e", "slurm"], False), (["-eslurm"], False),
    (["-ke", "slurm"], False), (["--unlock"], False), (["--no-hooks"], False), (["--touch"], False)])
def test_runs_that_execute_no_job_here_are_told_by_their_options(argv, runs):
    from casemeta.launch import only_shows, runs_jobs_here

    assert runs_jobs_here(["/usr/bin/snakemake", *argv]) is runs
    assert runs_jobs_here(["/env/lib/python3.11/site-packages/snakemake/__main__.py", *argv]) is runs
    # a command that changes nothing in the project: one that executes no job and is no --unlock, --touch, --no-hooks
    # or report (which packs results a run may be writing): none of those may run beside a run (the run lock)
    changes = runs or argv in (["--executor", "slurm"], ["--executor=slurm"], ["-e", "slurm"], ["-eslurm"],
                               ["-ke", "slurm"], ["--unlock"], ["--no-hooks"], ["--touch"], ["--report=report.html"])
    assert only_shows(["/usr/bin/snakemake", *argv]) is not changes
    assert only_shows(["/usr/bin/snakemake", "--delete-all-output"]) is False
    assert only_shows(["/usr/bin/snakemake", "-F", "-c2"]) is False and only_shows(["/usr/bin/snakemake", "-Fn"]) is True
    assert only_shows(["/home/me/analysis.py", "-n"]) is None  # Snakemake's Python API: not told


@pytest.mark.parametrize("argv, runs, shows", [
    (["--cores", "2"], True, False), (["--dryru"], False, True), (["--summ"], False, True), (["-n"], False, True),
    (["--lint"], False, True), (["--dag"], False, True), (["--touch"], False, False), (["--unlock"], False, False),
    (["--delete-all-output"], False, False), (["--report", "r.html"], False, False), (["--no-hooks"], False, False),
    (["--report", "r.html", "--report-after-run", "-c1"], True, False), (["-e", "touch"], False, False),
    (["--cores", "1", "--apptainer-args", "-B /home/lab"], True, False)])
def test_snakemakes_parsed_options_decide_where_they_are_found(argv, runs, shows):
    """Abbreviations (--dryru), option values that look like options (-B /home/lab, which the command line's reading
    took for -h) and profiles are seen in the options as Snakemake parsed them (a review found the value)."""
    from snakemake.cli import parse_args

    from casemeta.launch import only_shows, runs_jobs_here, snakemake_args

    _, args = parse_args(argv)
    assert runs_jobs_here(["/usr/bin/snakemake", *argv], args) is runs
    assert only_shows(["/usr/bin/snakemake", *argv], args) is shows
    # found on the stack where snakemake.cli.args_to_api holds them, not elsewhere
    scope = {"__name__": "snakemake.cli", "snakemake_args": snakemake_args}
    exec("def args_to_api(args, parser):\n    return (lambda: snakemake_args())()\n", scope)
    assert scope["args_to_api"](args, None) is args and snakemake_args() is None


def test_a_workflow_run_through_snakemakes_python_api_is_not_told_by_the_command_line():
    """sys.argv is the host program's (a script, a notebook kernel): it says nothing of the workflow's run."""
    from casemeta.launch import runs_jobs_here

    assert not runs_jobs_here(["/home/me/analysis.py", "--cores", "2"])
    assert not runs_jobs_here(["/usr/lib/python3/site-packages/ipykernel_launcher.py", "-f", "kernel.json"])
    assert not runs_jobs_here([])


def test_a_job_that_ignores_sigint_goes_on_after_one(server, tmp_path):
    """A job started with SIGINT ignored (`nohup snakemake &`, or `snakemake &` from a script) must not be stopped by
    one, warm as cold: the job's process does not pass it on, and its child ignores it too."""
    job, child = start_blocked(server, tmp_path, sigint=signal.SIG_IGN)
    try:
        job.send_signal(signal.SIGINT)
        time.sleep(1.0)
        assert job.poll() is None and alive(child)
        job.terminate()
        assert job.wait(timeout=20) == -signal.SIGTERM
        wait_for(lambda: not alive(child), "the child to end", timeout=10)
    finally:
        job.kill()
        job.wait()


def test_a_child_killed_outright_kills_its_job_the_same_way(blocked):
    """The child killed with SIGKILL (the kernel's out-of-memory killer, say): the job's process dies of the same
    signal, as its own process would have, without a word of its own."""
    job, child = blocked
    os.kill(child, signal.SIGKILL)
    assert job.wait(timeout=20) == -signal.SIGKILL
    assert "Traceback" not in job.stderr.read().decode()


def test_a_stop_from_the_terminal_stops_the_child_and_a_continue_continues_it(blocked):
    """Ctrl-Z sends SIGTSTP to the job: the job's process and its child stop; SIGCONT: both go on."""
    job, child = blocked
    job.send_signal(signal.SIGTSTP)
    wait_for(lambda: state(job.pid) == "T" and state(child) == "T", "the job and its child to stop", timeout=10)
    job.send_signal(signal.SIGCONT)
    wait_for(lambda: state(job.pid) not in ("T", "") and state(child) not in ("T", ""), "both to go on", timeout=10)


def test_a_stopped_job_killed_outright_leaves_no_stopped_child(blocked):
    """Stopped (Ctrl-Z) and then killed with SIGKILL: the child, stopped too, cannot notice; the warm process does,
    and ends it."""
    job, child = blocked
    job.send_signal(signal.SIGTSTP)
    wait_for(lambda: state(child) == "T", "the child to stop", timeout=10)
    job.kill()
    job.wait()
    wait_for(lambda: not alive(child), "the child to end", timeout=10)


def server_with_sitecustomize(tmp_path, monkeypatch, code: str):
    """A warm process started with a sitecustomize module holding `code` first on PYTHONPATH (which every Python
    process it and the test's jobs start runs at start-up); the caller stops it (served)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(code)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    handle = forkserver.start(tmp_path / "warm.log")
    handle.log = tmp_path / "warm.log"
    wait_for(lambda: os.path.exists(handle.socket), "the server to listen")
    return handle


def test_exit_handlers_of_the_warm_process_do_not_run_in_a_job(tmp_path, monkeypatch):
    """A handler registered at exit while the warm process imported a module (matplotlib's removal of its temporary
    configuration folder, say) is the warm process's: a job runs only its own. Here a sitecustomize module registers
    one in every Python process; a job's output holds the line of its own process only, warm as cold."""
    handle = server_with_sitecustomize(tmp_path, monkeypatch, "import atexit, os, sys\natexit.register(lambda: "
                                       "print('exit handler of', os.getpid(), file=sys.stderr))\n")
    try:
        warm = casemeta("--version", env={forkserver.ENV_VAR: handle.socket})
        cold = casemeta("--version", env={forkserver.ENV_VAR: ""})
    finally:
        assert served(handle) == (1, 0)
    for run in (warm, cold):
        assert run.returncode == 0 and run.stderr.count("exit handler of") == 1, run.stderr


def test_a_warm_process_with_a_thread_forks_no_job_and_names_the_thread(tmp_path, monkeypatch):
    """A thread in the warm process (started here by a sitecustomize module, as an import might start one) could hold
    a lock at the fork: the job runs in its own process, and the log names the thread."""
    handle = server_with_sitecustomize(tmp_path, monkeypatch, "import threading, time\nthreading.Thread("
                                       "target=time.sleep, args=(600,), name='stray-worker', daemon=True).start()\n")
    try:
        run = casemeta("--version", env={forkserver.ENV_VAR: handle.socket})
    finally:
        assert served(handle) == (0, 1)
    assert run.returncode == 0 and run.stdout == f"casemeta {__version__}\n"
    assert "this process has 2 threads (an import started some: stray-worker)" in handle.log.read_text()


def test_output_unbuffered_by_the_environment_keeps_its_order(server, tmp_path, monkeypatch):
    """PYTHONUNBUFFERED=1 (set by many containers and CI machines): the child's streams are unbuffered like the job's,
    so what the command writes to its output and its errors, read through one pipe, comes in the same order."""
    from conftest import copy_project

    (tmp_path / "project").mkdir()
    root = copy_project(tmp_path / "project")
    cases = root / "data" / "coded" / "african_clusters" / "cases.csv"
    lines = cases.read_text().splitlines()
    lines[1] = lines[1].replace(",1,", ",7,", 1)  # SYNTHETIC: an invalid code in the first case
    cases.write_text("\n".join(lines) + "\n")
    runs = []
    for socket_path in (server.socket, ""):
        runs.append(subprocess.run(["casemeta", "--root", str(root), "validate"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=120,
                                   env=job_env(**{forkserver.ENV_VAR: socket_path})))
    assert runs[0].returncode == runs[1].returncode == 1
    assert runs[0].stdout == runs[1].stdout and "pipkin_fuentes" in runs[0].stdout and "african_clusters" in runs[0].stdout
    assert served(server) == (1, 0)


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.005, 0.01, 0.03])
def test_a_ctrl_c_at_any_moment_of_the_hand_over_ends_the_job_by_it(server, tmp_path, delay):
    """SIGINT just after the server forked the child (while it takes the job over, or once it runs the command): the
    job dies of SIGINT, as its own process would, and leaves no child behind. (Before the job's own Python has
    started, a SIGINT ends it as it ends any Python starting up, warm jobs or not.)"""
    job = launch_blocked(tmp_path)
    try:
        forked = forked_now(server)
        time.sleep(delay)
        job.send_signal(signal.SIGINT)
        code = ended(job)
        assert code == -signal.SIGINT, diagnosis(job, forked[0] if forked else job.pid)
    finally:  # a failed test leaves no job (nor, the connection closing, its child) behind
        job.kill()
        job.wait()
    wait_for(lambda: not children(server.process.pid), "no child left", timeout=10)


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.005, 0.01, 0.03])
def test_a_ctrl_z_at_any_moment_of_the_hand_over_stops_the_job_and_its_child(server, tmp_path, delay):
    """SIGTSTP just after the server forked the child, before or after the job's process has set the handlers that
    pass signals on: the job and its child both stop (the job's process holds the signal until it can pass it on)."""
    job = launch_blocked(tmp_path)
    try:
        forked = forked_now(server)
        time.sleep(delay)
        job.send_signal(signal.SIGTSTP)
        wait_for(lambda: state(job.pid) == "T" and state(forked[0]) == "T", "the job and its child to stop", timeout=10)
    finally:
        job.kill()
        job.wait()
    wait_for(lambda: not children(server.process.pid), "no child left", timeout=10)


def test_a_hang_up_is_seen_without_reading_what_was_sent():
    """The server polls a job's connection for its end without taking the messages its child reads."""
    import socket

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.sendall(b'{"signal": 15}\n')
    assert not forkserver._hung_up(ours)
    theirs.close()
    assert forkserver._hung_up(ours)
    assert ours.recv(100) == b'{"signal": 15}\n'  # still there for the child
    ours.close()


def test_a_log_that_cannot_be_written_leaves_the_jobs_to_their_own_processes(tmp_path, monkeypatch, capsys):
    """logs/ unwritable (here: a file where its folder should be): no warm process, the run goes on without it."""
    monkeypatch.delenv(forkserver.ENV_VAR, raising=False)
    (tmp_path / "logs").write_text("not a folder")
    assert forkserver.start(tmp_path / "logs" / "warm_jobs.log") is None
    assert forkserver.ENV_VAR not in os.environ and "warm jobs not started" in capsys.readouterr().err


def test_every_module_imported_ahead_exists(monkeypatch):
    """The modules the warm process imports at its start (forkserver.PRELOAD) and while idle (AHEAD) are the
    package's and its libraries', and each function named `module:function` exists: a renamed one would only be
    skipped (and logged), so the lists are checked here."""
    from casemeta.coded import yaml_files

    monkeypatch.setattr(yaml_files, "_KEPT", {})  # what keep_studies keeps is this test's only
    for name in (*forkserver.PRELOAD, *forkserver.AHEAD):
        forkserver.load(name)
