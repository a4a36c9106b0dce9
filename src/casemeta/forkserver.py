"""Warm starts for a local workflow run's jobs: one process that has imported the libraries forks one child per job.

Every workflow job is a `casemeta` command in a new Python process, and most of a small job's CPU goes on
importing pandas, pandera, SciPy, statsmodels, matplotlib ... again (BENCHMARKS.md, "Where users wait"). While a
`snakemake` run executes jobs on this machine, one server process serves them: started while Snakemake reads the
workflow, unannounced (`start(announce=False)`: its imports use a second core meanwhile), and announced to the jobs by
the Snakefile's `onstart` (`run_server`), once the run is known to execute jobs here. The jobs' `casemeta` finds its
socket in the environment (CASEMETA_FORKSERVER) and hands its command to it (`delegate`). The server forks a child, which takes the job's standard streams (passed over the socket), working
directory, environment, umask and arguments, runs `casemeta.cli.main` and reports its exit status; the job's process
waits, forwards the signals it gets to the child (Snakemake stops a job by signalling its process group) and exits
as the child did. The child imports what the server has not; the server then imports what its children imported,
just before it forks the next child, so a library is imported once per run instead of once per job.

What it must never change is a result. So:
- the server is used only for jobs it could have been: same Python, same `sys.path` (but its first entry, the
  script's folder), same flags, same resource limits, and the same environment but for the variables a job's shell
  sets for itself (PER_JOB); anything else and it refuses, and the job runs in its own process as before (it also
  does when there is no server, or it cannot be reached). The refusals are written to the server's log.
- each child starts from the server, which never runs a command itself: no state passes from one job to the next.
- it serves the run that started it and no other: it stops with that run (`stop`, from onsuccess and onerror, or
  when that process exits) or when its parent is gone; a job on a cluster node never uses it (SLURM's environment,
  or no socket there), and the Snakefile announces it only for local execution (one never announced is discarded).
- a job killed hard (its process gone) takes its child with it: the child watches the connection and ends itself
  when the other side closes before it has finished.

Why hand-written: multiprocessing's forkserver starts Python functions for a parent that holds their result, not
commands for unrelated processes with their own streams and signals; no library found does the latter.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

ENV_VAR = "CASEMETA_FORKSERVER"
# variables a job's environment may hold with another value than the server's without changing anything it has
# imported: the temporary folder (Snakemake's tmpdir resource; applied in the child) and what the job's shell sets
# (PS1 and PS2: the prompt an activated virtual or conda environment exports, which bash drops in the non-interactive
# shell each job runs in: every job of a run started from such a terminal differed from the server in it alone)
PER_JOB = frozenset({"TMPDIR", "TMP", "TEMP", "TEMPDIR", "PWD", "OLDPWD", "SHLVL", "_", "PS1", "PS2"})
# Snakemake sets these to the rule's threads in every job's environment (snakemake/shell.py); the server is started
# with the default of one thread, so it serves the rules that keep that default
THREAD_VARS = ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
RLIMITS = ("RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
           "RLIMIT_STACK", "RLIMIT_MEMLOCK")
# signals a job's process passes on to its child (unless the job ignores them, as its own process would); a stop from
# the terminal (SIGTSTP) stops both, and SIGCONT continues both. SIGSTOP cannot be caught: it stops the job's process
# while its child goes on (README, "Warm jobs").
FORWARDED = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTSTP", "SIGCONT")
# those of them that end a process by default (a job gives up waiting for the server on one; it dies of one it
# passed on, where the server that would say how its child ended is gone)
ENDING = frozenset(getattr(signal, name) for name in FORWARDED) - {signal.SIGTSTP, signal.SIGCONT}
# imported when the server starts, before the first job: what every job of the workflow imports (the command line,
# and pandas through the steps' file handling). The first jobs of a run start together, before the server has
# learned anything from a child, and each imported these on its own (about 0.5 s of CPU each).
# `module:function` also calls the function: pandera, which every run's first jobs (validation, the coding check)
# use, is loaded by casemeta.coded.schema.pandera only (without hypothesis); each of those jobs loaded it itself
# (~0.15 s of CPU each, at the head of the run's longest chain of jobs).
PRELOAD = ("casemeta.cli", "casemeta.steps.pipeline", "casemeta.coded.schema:pandera")
# imported while no job is waiting, one at a time, in the order the workflow's jobs come to need them: the modules of
# its later commands (models, figures, tables, QCA, the multiverse, the synthesis) with the libraries they bring.
# Learned from the children alone, they came too late for the jobs that start together (two models jobs, the
# figures, the synthesis): each imported them itself, about 3 s of CPU in a cold run of the shipped studies. A module
# no job of a run uses costs this process's idle time only; one that fails to import is left to the jobs. The
# libraries come first, in steps of at most ~0.3 s: a job that asks meanwhile waits for the step under way. First of
# all, the project's codebooks and plans, read and checked once for every job (casemeta.study.keep_studies).
AHEAD = ("casemeta.study:keep_studies", "scipy.linalg", "scipy.stats", "sklearn.base", "firthmodels",
         "statsmodels.discrete.discrete_model",
         "casemeta.stats.study_analysis", "casemeta.steps.model_runs", "casemeta.stats.cross_validation",
         "casemeta.stats.firth_profile", "casemeta.steps.exports", "casemeta.publish.figures",
         "matplotlib.backends.backend_agg", "PIL.Image:preinit", "matplotlib.backends.backend_pdf", "pypdfium2", "casemeta.publish.office",
         "casemeta.steps.synthesis", "casemeta.publish.synthesis_tables", "statsmodels.stats.meta_analysis",
         "statsmodels.stats.contingency_tables", "casemeta.steps.qca_runs", "casemeta.publish.qca_figures",
         "casemeta.steps.influence_runs", "casemeta.steps.robustness", "casemeta.stats.multiverse",
         "casemeta.publish.specification_figures", "casemeta.publish.robustness_tables")
SOCKET_NAME = "jobs.sock"
# A server started unannounced logs into its own folder until the run announces it: the run writes ANNOUNCED there,
# then sends ADOPT_SIGNAL (ignored by default: one that came before the server set its handler is not lost, as the
# server looks for the file once the handler is set)
EARLY_LOG, ANNOUNCED = "early.log", "announced"
ADOPT_SIGNAL = signal.SIGURG
_HEADER = struct.Struct("!I")
_MAX_REQUEST = 16 * 1024 * 1024
REQUEST_TIMEOUT = 10  # seconds for a job's request to arrive whole


def load(name: str) -> None:
    """Import a module of PRELOAD or AHEAD; for `module:function`, call the function too (it loads what the module
    loads only when first used)."""
    import importlib

    module, _, call = name.partition(":")
    loaded = importlib.import_module(module)
    if call:
        getattr(loaded, call)()


def available() -> bool:
    """Fork a process that has imported numeric libraries only where that is known to be sound: Linux (macOS's
    system libraries are not fork-safe; Windows has no fork)."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


# ---------------------------------------------------------------- what a process is, for the compatibility check

def _rlimits() -> dict[str, list[int]]:
    import resource

    return {name: list(resource.getrlimit(getattr(resource, name))) for name in RLIMITS if hasattr(resource, name)}


def _dispositions() -> dict[int, str]:
    """How this process treats each signal, as a new Python process sets it up: inherited as ignored or default,
    SIGINT raising KeyboardInterrupt (unless inherited as ignored), SIGPIPE and SIGXFSZ ignored by Python."""
    found = {}
    for signum in signal.valid_signals():
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            handler = signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        found[int(signum)] = ("ignore" if handler is signal.SIG_IGN else "interrupt" if handler is signal.default_int_handler
                              else "default")
    return found


def _stream(stream) -> dict | None:
    """How a standard stream is set up (encoding, buffering), for the child to set up its own alike."""
    if stream is None:
        return None
    import io

    return {"encoding": stream.encoding, "errors": stream.errors, "line_buffering": stream.line_buffering,
            "write_through": stream.write_through, "raw": isinstance(getattr(stream, "buffer", None), io.RawIOBase)}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _identity(search_path: list[str]) -> dict:
    """What must be the same in a job's process and the server for the server's imports to be the job's (the module
    search path without a script's own folder, which the child puts back)."""
    return {"executable": os.path.realpath(sys.executable), "version": sys.version, "prefix": sys.prefix,
            "path": list(search_path), "flags": list(sys.flags), "warnoptions": list(sys.warnoptions),
            "xoptions": {str(k): str(v) for k, v in sys._xoptions.items()}, "rlimits": _rlimits()}


def mismatch(request: dict, server_env: dict[str, str], identity: dict) -> str | None:
    """Why a job's process differs from the server in what the server's imports depend on, or None."""
    for key, value in identity.items():
        if request["identity"].get(key) != value:
            return f"{key} differs"
    job_env = {k: v for k, v in request["env"].items() if k not in PER_JOB}
    own_env = {k: v for k, v in server_env.items() if k not in PER_JOB}
    for name in sorted(job_env.keys() | own_env.keys()):
        if job_env.get(name) != own_env.get(name):
            return f"environment variable {name} differs"
    return None


# ---------------------------------------------------------------- messages

def _send(sock: socket.socket, message: dict) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


class _Lines:
    """JSON messages, one per line, from a socket."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, b""

    def next(self) -> dict | None:
        """The next message, or None where the other side has closed (or the connection broke, or timed out)."""
        try:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(4096)
                if not chunk:
                    return None
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            return json.loads(line)
        except (OSError, ValueError):
            return None


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed during the request")
        data += chunk
    return data


# ---------------------------------------------------------------- the job's side

def delegate(argv: list[str]) -> int | None:
    """Run the command in the run's warm process and return its exit status, or None where this process must run it
    itself (no server, not reachable, or refused: the reason is in the server's log)."""
    path = os.environ.get(ENV_VAR)
    if not path or not available() or "SLURM_JOB_ID" in os.environ:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # the signals this process passes on wait (blocked, kept pending) from before the request until the handlers that
    # pass them on are set: a Ctrl-Z between the fork and those handlers would otherwise stop this process alone. Where
    # the server does not take the job, they are let through as they came, to this process's own dispositions.
    forwarded = [getattr(signal, name) for name in FORWARDED]
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, forwarded)
    try:
        sock.settimeout(5)
        sock.connect(path)
        dispositions = _dispositions()
        request = {"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
                   "sys_path0": sys.path[0] if sys.path else "", "identity": _identity(sys.path[1:]),
                   "stdio": [_stream(s) for s in (sys.stdin, sys.stdout, sys.stderr)], "signals": dispositions,
                   "blocked": sorted(int(s) for s in mask)}
        payload = json.dumps(request).encode()
        fds = [fd for fd in (0, 1, 2) if _is_open(fd)]
        socket.send_fds(sock, [_HEADER.pack(len(payload)), json.dumps(fds).encode().ljust(16)], fds)
        sock.sendall(payload)
        lines = _Lines(sock)
        reply = lines.next() if _answered(sock, dispositions) else None
    except (OSError, ValueError):
        reply = None
    if reply is None or "started" not in reply:
        sock.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return None
    sock.settimeout(None)
    child = reply["started"]

    sent = []  # the signals passed on to the child

    def forward(signum, frame):
        sent.append(signum)
        if signum == signal.SIGCONT:  # the child is stopped, its thread that reads these messages too: signal it
            try:
                os.kill(child, signal.SIGCONT)
            except OSError:
                pass
            return
        try:  # a stop from the terminal: the child stops (its group is orphaned, so SIGTSTP would not), then this one
            _send(sock, {"signal": int(signal.SIGSTOP) if signum == signal.SIGTSTP else signum})
        except OSError:
            pass
        if signum == signal.SIGTSTP:
            os.kill(os.getpid(), signal.SIGSTOP)

    for signum in forwarded:
        if dispositions.get(int(signum)) != "ignore":  # ignored, it stays ignored: the child ignores it too
            signal.signal(signum, forward)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a signal that came during the hand-over is passed on now
    while True:
        message = lines.next()
        if message is None:
            ending = [s for s in sent if s in ENDING]
            if ending:  # the warm process is gone, which alone reports a child's death by a signal: the one sent
                _die_of(ending[-1])
            print(f"casemeta: the job's process (pid {child}, forked by the run's warm process) ended without "
                  "reporting its exit status", file=sys.stderr)
            return 1
        if "exit" in message:
            return int(message["exit"])
        if "killed" in message:  # died of a signal: so does this process, as the job would have
            _die_of(int(message["killed"]))
            return 128 + int(message["killed"])


def _answered(sock: socket.socket, dispositions: dict[int, str], limit: float = 300.0) -> bool:
    """Wait for the server's answer (it may finish an import first: seconds, not minutes), looking every 50 ms for a
    signal held meanwhile that would end this process (SIGTERM, SIGINT, SIGHUP ... not ignored): with one pending,
    False, and the job gives up the server, so that the signal acts at once, as on a job in its own process. (The
    server forks no child for a job that hung up; a child forked just before sees the closed connection and ends.)"""
    import select
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if select.select([sock], [], [], 0.05)[0]:
            sock.settimeout(limit)
            return True
        if any(dispositions.get(int(s)) != "ignore" for s in signal.sigpending() & ENDING):
            return False
    return False


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _die_of(signum: int) -> None:
    """End this process by the signal's default action: as a process that got it ends (Python, after an uncaught
    KeyboardInterrupt, ends by SIGINT so)."""
    _flush_streams()
    try:
        signal.signal(signum, signal.SIG_DFL)
    except (OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
        pass
    os.kill(os.getpid(), signum)


def _drop(conn: socket.socket, fds) -> None:
    """Let go of a request that gets no child: the job's stream descriptors passed with it, and its connection."""
    for fd in fds:
        os.close(fd)
    conn.close()


def _hung_up(conn: socket.socket) -> bool:
    """The other side of the connection has closed it (polled, nothing read)."""
    import select

    poller = select.poll()
    poller.register(conn.fileno(), select.POLLRDHUP)
    return any(events & (select.POLLRDHUP | select.POLLHUP) for _, events in poller.poll(0))


def _state(pid: int) -> str:
    """A process's state letter (R running, S sleeping, T stopped ...), or '' when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# ---------------------------------------------------------------- the run's side

class Handle:
    """The server a run started: `stop` ends it and removes its socket."""

    def __init__(self, process, folder: str, announced: bool = True):
        self.process, self.folder, self.announced = process, folder, announced

    @property
    def socket(self) -> str:
        return os.path.join(self.folder, SOCKET_NAME)

    def announce(self) -> bool:
        """Point this process's jobs at a server started with `announce=False`, and have it write its log where
        `start` was told (what it logged meanwhile first). False, and the server discarded, if it has ended or its
        folder is gone (a cleaner of temporary files)."""
        if self.process.poll() is None:
            try:
                open(os.path.join(self.folder, ANNOUNCED), "w").close()
            except OSError:
                pass
            else:
                self.process.send_signal(ADOPT_SIGNAL)
                os.environ[ENV_VAR] = self.socket
                self.announced = True
                return True
        self.discard()
        return False

    def stop(self, timeout: float = 5.0) -> None:
        import shutil
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if os.environ.get(ENV_VAR) == self.socket:
            del os.environ[ENV_VAR]
        shutil.rmtree(self.folder, ignore_errors=True)

    def discard(self) -> None:
        """End a server never announced at once (it has served no job, and its log is its own) and remove it."""
        import shutil

        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def end(self) -> None:
        """Whatever became of it: a server never announced goes at once (`discard`), one announced as `stop` ends it.
        Called when this process exits too (the run's onsuccess or onerror has ended it then, unless they did not
        run)."""
        if self.process.poll() is None:
            self.stop() if self.announced else self.discard()


def start(log_path: str | os.PathLike, request_timeout: float = REQUEST_TIMEOUT, announce: bool = True) -> Handle | None:
    """Start the warm process for this process's jobs (the `snakemake` run) and point them at it through the
    environment; None where fork is not sound here. Its log (refusals, import failures) goes to `log_path`.

    `announce=False` starts it unannounced, to import its libraries while the run is still being prepared: no job
    uses it, and it writes nothing at `log_path` (its log waits in its own folder), until `run_server` announces
    it; never announced, it is discarded when this process exits (or `stop()`ped), without a trace."""
    import subprocess
    import tempfile

    if not available():
        return None
    folder = tempfile.mkdtemp(prefix="casemeta-jobs-")
    path = os.path.join(folder, SOCKET_NAME)
    if len(path.encode()) > 100:  # a Unix socket's path is limited to 107 bytes
        os.rmdir(folder)
        return None
    env = {**os.environ, ENV_VAR: path, **{name: "1" for name in THREAD_VARS}}
    later = [] if announce else [os.path.abspath(log_path)]  # where its log goes once announced
    try:
        with _new_log(log_path) if announce else open(os.path.join(folder, EARLY_LOG), "w", encoding="utf-8") as log:
            process = subprocess.Popen([sys.executable, "-m", "casemeta.forkserver", path, str(os.getpid()),
                                        str(request_timeout), *later],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)  # a Ctrl-C at the terminal is the jobs' to pass on
    except OSError as exc:  # no warm process: the jobs run in their own, as without one
        _not_started(exc)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        return None
    if announce:
        os.environ[ENV_VAR] = path
        return Handle(process, folder)
    import atexit

    handle = Handle(process, folder, announced=False)
    atexit.register(handle.end)
    return handle


def run_server(early: Handle | None, log_path: str | os.PathLike,
               request_timeout: float = REQUEST_TIMEOUT) -> Handle | None:
    """The warm process of a run about to execute its jobs here (the Snakefile's onstart): `early`, started
    unannounced, announced; a new one where there is none or it has ended; None where none can serve, with a
    message (its log cannot be written, as `start` finds too)."""
    if early is None:
        return start(log_path, request_timeout)
    try:
        _new_log(log_path).close()  # the server opens it when announced: where it cannot, say so here
    except OSError as exc:
        early.discard()
        _not_started(exc)
        return None
    return early if early.announce() else start(log_path, request_timeout)


def _not_started(why: OSError) -> None:
    print(f"casemeta: warm jobs not started ({why}); every job runs in its own process", file=sys.stderr)


def _new_log(log_path: str | os.PathLike):
    """The run's warm-jobs log, emptied: it describes this run only."""
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    return open(log_path, "w", encoding="utf-8")


def not_started(log_path: str | os.PathLike, why: str) -> None:
    """Say in the log that this run started no warm process (so that the log never describes an earlier run)."""
    import time

    try:
        with _new_log(log_path) as log:
            log.write(f"casemeta warm jobs: {why}; every job of the run started {time.strftime('%Y-%m-%d %H:%M:%S')} "
                      "ran in its own process\n")
    except OSError:  # only a log: the run goes on without it
        pass


class _Child:
    def __init__(self, conn: socket.socket, argv: list[str]):
        self.conn, self.argv, self.learned = conn, argv, b""
        self.abandoned = False


class Server:
    def __init__(self, path: str, owner: int, request_timeout: float = REQUEST_TIMEOUT, log_later: str | None = None):
        import selectors

        self.path, self.owner, self.request_timeout, self.log_later = path, owner, request_timeout, log_later
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, _Child] = {}
        self.learning: dict[int, _Child] = {}  # learn pipe -> child (still open)
        self.pending: list[str] = []  # modules children imported that this process has not
        self.ahead = list(AHEAD)  # imported while idle
        self.failed: set[str] = set()
        self.served = self.refused = self.gone = 0  # forked; refused here (each ran in its own process); gone first
        self.stopping = False
        self.env = dict(os.environ)
        self.identity = _identity(sys.path)

    def log(self, message: str) -> None:
        print(f"casemeta warm jobs: {message}", file=sys.stderr, flush=True)

    def serve(self) -> None:
        import selectors

        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(64)
        wake_r, self.wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        # none blocked: inherited from the run, a blocked SIGCHLD would hide its children's ends
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if self.log_later:
            signal.signal(ADOPT_SIGNAL, self._announced)
            if os.path.exists(os.path.join(os.path.dirname(self.path), ANNOUNCED)):
                self._announced()
        self.wake_r = wake_r
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(wake_r, selectors.EVENT_READ, "wake")
        for name in PRELOAD:
            load(name)

        self.log(f"serving {self.path} for process {self.owner}")
        while not self.stopping:
            events = self.selector.select(timeout=0 if self.pending or self.ahead else 1.0)
            if not events and (self.pending or self.ahead):  # no job waits: one more module, for the next job
                self._import((self.pending or self.ahead).pop(0))
            for key, _ in events:
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        pass
                else:
                    self._read_learned(key.fd)
            self._reap()
            self._abandoned()
            if os.getppid() != self.owner:
                self.log("the run that started this process has ended")
                break
        self._reap()
        self.listener.close()
        folder = os.path.dirname(self.path)
        for remove, path in ((os.unlink, self.path), (os.unlink, os.path.join(folder, ANNOUNCED)),
                             (os.unlink, os.path.join(folder, EARLY_LOG)), (os.rmdir, folder)):
            try:
                remove(path)
            except OSError:
                pass
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)  # the imports done once for the jobs
        # a job that gave up waiting ran in its own process, or was ended (a signal) before it could: not known here
        self.log(f"stopped: {self.served} job(s) forked from here, {self.refused} refused (each ran in its own process), "
                 f"{self.gone} no longer waiting when their turn came; "
                 f"this process itself used {own.ru_utime:.3f} s user and {own.ru_stime:.3f} s system CPU")

    def _stop(self, *_):
        self.stopping = True

    def _announced(self, *_):
        """The run announced this server to its jobs: the log goes to the run's log file, what it held so far first.
        (A handler runs in this process's only thread, between two steps of Python: nothing else writes meanwhile.)"""
        if not self.log_later:  # announced already
            return
        path, self.log_later = self.log_later, None
        sys.stdout.flush()
        sys.stderr.flush()
        early = os.path.join(os.path.dirname(self.path), EARLY_LOG)
        try:
            log = _new_log(path)
        except OSError as exc:  # only a log: the jobs are served all the same
            self.log(f"cannot write the log at {path} ({exc}); this run has none")
            return
        with log, open(early, "rb") as held:
            os.write(log.fileno(), held.read())
            for target in (1, 2):
                os.dup2(log.fileno(), target)
        os.unlink(early)

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        fds: list[int] = []
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != os.getuid():
                raise ConnectionError("another user")
            conn.settimeout(self.request_timeout)
            data, fds, _, _ = socket.recv_fds(conn, _HEADER.size + 16, 3)
            data += _recv_exact(conn, _HEADER.size + 16 - len(data)) if len(data) < _HEADER.size + 16 else b""
            (size,) = _HEADER.unpack(data[:_HEADER.size])
            if size > _MAX_REQUEST or len(fds) != len(json.loads(data[_HEADER.size:])):
                raise ConnectionError("malformed request")
            request = json.loads(_recv_exact(conn, size))
            request["fds"] = dict(zip(json.loads(data[_HEADER.size:]), fds))
            conn.settimeout(None)  # the time limit was for reading the request: the child reads its job's signals
        except (OSError, ValueError) as exc:
            self.log(f"a request could not be read ({exc})")
            return _drop(conn, fds)
        command = f"`casemeta {' '.join(request['argv'][1:])[:300]}`"
        reason = mismatch(request, self.env, self.identity)
        if reason is None:
            self._import_learned()
            reason = self._threads()
        if reason is not None:
            self.refused += 1
            self.log(f"{command} runs in its own process: {reason}")
            try:
                _send(conn, {"refused": reason})
            except OSError:
                pass
            return _drop(conn, fds)
        if _hung_up(conn):  # the job gave up waiting (its imports took long) and runs on its own: never twice
            self.gone += 1
            self.log(f"{command} was no longer waiting")
            return _drop(conn, fds)
        self._fork(conn, request)

    def _threads(self) -> str | None:
        """Fork only a single-threaded process (a thread holding a lock at the fork would hold it forever)."""
        try:
            count = len(os.listdir("/proc/self/task"))
        except OSError:
            count = 1
        if count == 1:
            return None
        import threading

        named = ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())
        return f"this process has {count} threads (an import started some{': ' + named if named else ''})"

    def _import_learned(self) -> None:
        pending, self.pending = self.pending, []
        for name in pending:
            self._import(name)

    def _import(self, name: str) -> None:
        if name in sys.modules or name in self.failed:
            return
        try:
            load(name)
        except (Exception, SystemExit) as exc:  # a module that imports only in its parent's context: left to the jobs
            self.failed.add(name)
            self.log(f"not imported here, left to the jobs that use it: {name} ({type(exc).__name__}: a module that "
                     "imports only from its package)")

    def _fork(self, conn: socket.socket, request: dict) -> None:
        import gc
        import selectors

        learn_r, learn_w = os.pipe()
        known = set(sys.modules)
        sys.stdout.flush()
        sys.stderr.flush()
        # what this process holds (the libraries: ~230,000 objects the collector tracks) is out of the children's
        # garbage collections (gc.freeze, made for servers that fork): a child's full collection walked it all,
        # ~0.1 s of CPU each time, and copied every page it touched
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.close(learn_r)
                _Job(self, conn, request, learn_w, known).run()
            except BaseException as exc:
                import traceback

                traceback.print_exc()
                if isinstance(exc, KeyboardInterrupt):  # a Ctrl-C before or after the command: die of it, as a job would
                    _die_of(signal.SIGINT)
            finally:
                os._exit(70)  # EX_SOFTWARE: the child could not become the job (reported to the job's stderr)
        os.close(learn_w)
        for fd in request["fds"].values():
            os.close(fd)
        child = _Child(conn, request["argv"][1:])
        self.children[pid] = child
        self.learning[learn_r] = child
        os.set_blocking(learn_r, False)
        self.selector.register(learn_r, selectors.EVENT_READ, "learn")
        self.served += 1
        try:
            _send(conn, {"started": pid})
        except OSError:  # the job is gone already: its child sees the closed connection and ends itself
            pass

    def _read_learned(self, fd: int) -> None:
        child = self.learning.get(fd)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if child is not None and chunk:
            child.learned += chunk
            return
        self.selector.unregister(fd)
        os.close(fd)
        if child is not None:
            del self.learning[fd]
            known = set(self.pending)
            self.pending += [n for n in child.learned.decode().split("\n") if n and n not in known]

    def _abandoned(self) -> None:
        """A child whose job's process is gone ends: it notices the closed connection itself while it runs (_Job._watch
        ends it), but not while it is stopped (Ctrl-Z, then the job killed), so a stopped one is continued from here.
        A running one is left alone: its job may have gone because the child reported its exit and is ending. The
        connection is polled for the other side's hang-up only: the child reads its messages."""
        for pid, child in self.children.items():
            if not child.abandoned and _state(pid) == "T" and _hung_up(child.conn):
                child.abandoned = True
                try:
                    os.kill(pid, signal.SIGCONT)
                except OSError:
                    pass

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            message = {"killed": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.waitstatus_to_exitcode(status)}
            # each job's own resources, as a job in its own process would have had them measured (benchmarks read it)
            self.log("job " + json.dumps({"argv": child.argv, **message, "user": round(usage.ru_utime, 3),
                                          "system": round(usage.ru_stime, 3), "maxrss_kib": usage.ru_maxrss}))
            try:  # the child reports its own exit status; this covers a child that died before it could
                _send(child.conn, message)
            except OSError:
                pass
            child.conn.close()


class _Job:
    """A forked child: takes on the job's process (streams, folder, environment) and runs the command."""

    def __init__(self, server: Server, conn: socket.socket, request: dict, learn_w: int, known: set[str]):
        self.server, self.conn, self.request, self.learn_w, self.known = server, conn, request, learn_w, known
        self.finished = False

    def run(self) -> None:
        import threading

        self._take_over()
        threading.Thread(target=self._watch, daemon=True).start()
        code = self._command()
        self._finish(code)

    def _take_over(self) -> None:
        server, request = self.server, self.request
        signal.set_wakeup_fd(-1)
        for signum, how in request["signals"].items():  # as the job's own process had them
            handler = {"ignore": signal.SIG_IGN, "interrupt": signal.default_int_handler}.get(how, signal.SIG_DFL)
            try:
                signal.signal(int(signum), handler)
            except (OSError, ValueError):
                pass
        signal.pthread_sigmask(signal.SIG_SETMASK, request["blocked"])  # the signals the job's process blocks
        import atexit
        import weakref

        # the server's exit handlers and finalizers are the server's (matplotlib's temporary folder, say): the job
        # runs those it registers itself
        atexit._clear()
        try:
            weakref.finalize._registry.clear()
            weakref.finalize._registered_with_atexit = False
        except AttributeError:
            pass
        server.selector.close()
        server.listener.close()
        for fd in [server.wake_r, server.wake_w, *server.learning]:
            try:
                os.close(fd)
            except OSError:
                pass
        for other in server.children.values():
            other.conn.close()
        fds = request["fds"]
        for target in (0, 1, 2):
            if target in fds:
                os.dup2(fds[target], target)
            else:
                os.close(target)
        for fd in fds.values():
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(request["umask"])
        import tempfile

        tempfile.tempdir = None  # found again from this job's TMPDIR
        sys.argv = list(request["argv"])
        sys.path[0:0] = [request["sys_path0"]]
        import io

        streams = []
        for fd, (mode, spec) in enumerate(zip("rww", request["stdio"])):
            if spec is None or fd not in fds:
                streams.append(None)
                continue
            raw = io.FileIO(fd, mode, closefd=False)
            buffer = raw if spec["raw"] else io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
            streams.append(io.TextIOWrapper(buffer, encoding=spec["encoding"], errors=spec["errors"],
                                            line_buffering=spec["line_buffering"], write_through=spec["write_through"]))
        sys.stdin, sys.stdout, sys.stderr = streams
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams

    def _watch(self) -> None:
        """Signals the job's process forwards; its end before this child's means the job was killed."""
        import threading

        lines = _Lines(self.conn)
        while True:
            message = lines.next()
            if message is None:
                if not self.finished:  # SIGTERM, as a job's own process killed gets; SIGKILL if the job ignores
                    # or blocks it (a blocked one would only wait, pending, with the job gone)
                    ignored = (signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
                               or int(signal.SIGTERM) in self.request["blocked"])
                    os.kill(os.getpid(), signal.SIGKILL if ignored else signal.SIGTERM)
                return
            if "signal" in message:  # to the main thread: a signal Python handles (SIGINT) must interrupt its wait
                signal.pthread_kill(threading.main_thread().ident, int(message["signal"]))

    def _command(self) -> int:
        from casemeta.cli import main

        try:
            return main(sys.argv[1:])
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                return exc.code or 0
            print(exc.code, file=sys.stderr)
            return 1
        except Exception:  # a KeyboardInterrupt goes on to the fork's wrapper, which ends the child by SIGINT
            sys.excepthook(*sys.exc_info())
            return 1

    def _finish(self, code: int) -> None:
        import atexit

        import logging

        atexit._run_exitfuncs()  # the job's own exit handlers, as its own process's exit would run them
        logging.shutdown()  # registered at exit by logging's import, in the server: the job's log handlers flush and close
        _flush_streams()
        learned = "\n".join(name for name in list(sys.modules) if name not in self.known)
        try:
            os.write(self.learn_w, learned.encode())
            os.close(self.learn_w)
        except OSError:
            pass
        self.finished = True
        try:
            _send(self.conn, {"exit": code})
        except OSError:
            pass
        os._exit(code)


if __name__ == "__main__":
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.getcwd():
        del sys.path[0]  # `-m` put the working folder first: a job's process does not have it
    Server(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:5]).serve()
    # its exit handlers, then out without the interpreter's teardown of every library the jobs needed (~0.4 s that
    # the run waited for at its end: onsuccess stops this process and waits)
    import atexit

    atexit._run_exitfuncs()
    _flush_streams()
    os._exit(0)
