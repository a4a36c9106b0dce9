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
