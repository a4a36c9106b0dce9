"""The `casemeta` executable. A workflow job of a local `snakemake` run is handed to the run's warm process
(casemeta.forkserver), which has imported the libraries already; every other command runs here (casemeta.cli)."""

import os
import sys


def main() -> None:
    code = None
    if os.environ.get("CASEMETA_FORKSERVER"):  # forkserver.ENV_VAR, set by the run for its jobs only: spelled here
        # so that nothing is imported otherwise
        from casemeta.forkserver import delegate

        code = delegate(sys.argv)
    if code is None:
        from casemeta.cli import main as run

        code = run()
    sys.exit(code)


def first_on_path() -> None:
    """Put the folder of this Python's `casemeta` first on PATH, for the processes this one starts (a workflow's
    jobs), where it is not there already. Found further on, `casemeta` may be a version manager's shim (pyenv's
    starts several shells per call: ~65 ms of CPU per job, about a second in a run of the shipped studies), or
    another environment's."""
    folder = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if os.access(os.path.join(folder, "casemeta"), os.X_OK) and path.split(os.pathsep)[0] != folder:
        os.environ["PATH"] = os.pathsep.join([folder, path]) if path else folder


def snakemake_args():
    """Snakemake's options as its command line parsed them, profiles and abbreviations included: the `args` of
    snakemake.cli.args_to_api, on the stack while the Snakefile is read. Not a documented interface: None where it is
    not found (another version of Snakemake, its Python API), and the command line itself is read instead."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "args_to_api" and frame.f_globals.get("__name__") == "snakemake.cli":
            args = frame.f_locals.get("args")
            return args if hasattr(args, "dryrun") and hasattr(args, "executor") else None
        frame = frame.f_back
    return None


# the same, as the attributes of Snakemake's parsed options (snakemake_args): what only shows or checks the workflow,
# and what changes the project without executing jobs (a report written after a run, --report-after-run, runs them)
SHOWS_ONLY_ARGS = ("dryrun", "lint", "rulegraph", "dag", "d3dag", "filegraph", "summary", "detailed_summary",
                   "list_rules", "list_target_rules", "list_changes", "list_input_changes", "list_params_changes",
                   "list_untracked", "list_conda_envs", "print_compilation", "export_cwl", "version")
NO_JOBS_ARGS = ("touch", "unlock", "cleanup_metadata", "cleanup_shadow", "delete_all_output", "delete_temp_output",
                "conda_cleanup_envs", "conda_create_envs_only", "containerize", "archive", "generate_unit_tests",
                "no_hooks")


def _given(args, names) -> bool:
    return any(getattr(args, name, None) not in (None, False) for name in names)


# Snakemake's options of a command that only shows or checks the workflow, changing nothing in the project: a dry run,
# checks, graphs, summaries, listings
ONLY_SHOWS = frozenset({
    "--dry-run", "--dryrun", "--lint", "--rulegraph", "--dag", "--d3dag", "--filegraph", "--summary",
    "--detailed-summary", "--list", "--list-rules", "--list-target-rules", "--lt", "--list-changes", "--lc",
    "--list-input-changes", "--li", "--list-params-changes", "--lp", "--list-code-changes", "--list-version-changes",
    "--lv", "--list-untracked", "--lu", "--list-conda-envs", "--version", "--help", "--print-compilation",
    "--export-cwl"})
ONLY_SHOWS_SHORT = frozenset("nlSDvh")  # -n, -l, -S, -D, -v, -h, alone or in a group such as -np
# and of any command that executes no job here: those, and the ones that change files without running jobs (which
# must not run beside a run either), and runs without the onstart hook that would hand the jobs to the warm process
NO_JOBS_HERE = ONLY_SHOWS | {
    "--report", "--unlock", "--cleanup-metadata", "--cm", "--cleanup-shadow", "--touch", "--delete-all-output",
    "--delete-temp-output", "--containerize", "--archive", "--conda-create-envs-only", "--conda-cleanup-envs",
    "--generate-unit-tests", "--no-hooks"}
NO_JOBS_HERE_SHORT = ONLY_SHOWS_SHORT | {"t"}  # and -t, --touch
TAKES_VALUE_SHORT = frozenset("scjCdeRPUOqwT")  # in a group, the rest is the option's value: -call is -c all


def snakemake_options(argv: list[str]) -> list[str] | None:
    """The options of a command line (sys.argv) of the `snakemake` program; None for any other program (a workflow
    run through Snakemake's Python API is not told by the program's command line)."""
    program = os.path.normpath(argv[0]) if argv else ""
    if os.path.basename(program) != "snakemake" and not program.endswith(os.path.join("snakemake", "__main__.py")):
        return None
    return argv[1:]


def _named(options: list[str]):
    """Each option of a command line as (name, value): a long one as written (`--x`, its value after `=` or else the
    next word, whether or not it takes one), and each letter of a group of short ones (-np: `n`, `p`), a letter that
    takes a value ending the group with the rest of it or else the next word (-call: `c`, `all`)."""
    for i, arg in enumerate(options):
        following = options[i + 1] if i + 1 < len(options) else ""
        if arg.startswith("--"):
            name, _, value = arg.partition("=")
            yield name, value or following
        elif len(arg) > 1 and arg[0] == "-":
            for k, letter in enumerate(arg[1:], start=2):
                if letter in TAKES_VALUE_SHORT:
                    yield letter, arg[k:] or following
                    break
                yield letter, ""


def runs_jobs_here(argv: list[str], args=None) -> bool:
    """Whether a `snakemake` command may run jobs on this machine: not one that only shows or checks the workflow,
    changes files without running jobs, or names another executor than the local one. From its parsed options
    (`args`: snakemake_args()) where given, else from its command line (sys.argv: NO_JOBS_HERE, exact spellings
    only, no profile seen). A workflow run through Snakemake's Python API: False."""
    if args is not None:
        report_only = getattr(args, "report", None) is not None and not getattr(args, "report_after_run", False)
        return not (_given(args, SHOWS_ONLY_ARGS + NO_JOBS_ARGS) or report_only
                    or getattr(args, "executor", None) not in (None, "local"))
    options = snakemake_options(argv)
    return options is not None and not any(
        name in NO_JOBS_HERE or name in NO_JOBS_HERE_SHORT or (name in ("--executor", "e") and value != "local")
        for name, value in _named(options))


def only_shows(argv: list[str], args=None) -> bool | None:
    """Whether a `snakemake` command only shows or checks the workflow (a dry run, a graph, a listing ...), changing
    nothing in the project: from its parsed options (`args`: snakemake_args()) where given, else from its command
    line (ONLY_SHOWS); None for another program (Snakemake's Python API: not told)."""
    if args is not None:
        return _given(args, SHOWS_ONLY_ARGS)
    options = snakemake_options(argv)
    if options is None:
        return None
    return any(name in ONLY_SHOWS or name in ONLY_SHOWS_SHORT for name, _ in _named(options))
