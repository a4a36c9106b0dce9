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


# Snakemake's options for runs that execute no job: a dry run, checks, graphs, summaries, listings, clean-ups
SHOWS_ONLY = frozenset({
    "--dry-run", "--dryrun", "--lint", "--rulegraph", "--dag", "--d3dag", "--filegraph", "--summary",
    "--detailed-summary", "--list", "--list-rules", "--list-target-rules", "--lt", "--list-changes", "--lc",
    "--list-input-changes", "--li", "--list-params-changes", "--lp", "--list-code-changes", "--list-version-changes",
    "--lv", "--list-untracked", "--lu", "--list-conda-envs", "--report", "--unlock", "--cleanup-metadata", "--cm",
    "--cleanup-shadow", "--touch", "--delete-all-output", "--delete-temp-output", "--containerize", "--archive",
    "--export-cwl", "--print-compilation", "--conda-create-envs-only", "--conda-cleanup-envs", "--version", "--help"})
SHOWS_ONLY_SHORT = frozenset("nlSDtvh")  # -n, -l, -S, -D, -t, -v, -h, alone or in a group such as -np


def runs_jobs_here(argv: list[str]) -> bool:
    """Whether a `snakemake` command line (without the program) may run jobs on this machine, as far as its options
    tell: not a run that only shows or checks the workflow (SHOWS_ONLY), nor one with another executor than the
    local one. Options from a profile are not seen: a run they send elsewhere is known only once Snakemake has
    chosen its executor."""
    for i, arg in enumerate(argv):
        name, _, value = arg.partition("=")
        if name in SHOWS_ONLY:
            return False
        if name in ("--executor", "-e"):
            if (value or (argv[i + 1] if i + 1 < len(argv) else "")) != "local":
                return False
        elif len(arg) > 1 and arg[0] == "-" and arg[1:].isalpha() and SHOWS_ONLY_SHORT & set(arg[1:]):
            return False
    return True
