"""The `casemeta` executable. A workflow job of a local `snakemake` run is handed to the run's warm process
(casemeta.forkserver), which has imported the libraries already; every other command runs here (casemeta.cli)."""

import os
import sys


def main() -> None:
    code = None
    if os.environ.get("CASEMETA_FORKSERVER"):  # set by the run for its jobs only: nothing is imported otherwise
        from casemeta.forkserver import delegate

        code = delegate(sys.argv)
    if code is None:
        from casemeta.cli import main as run

        code = run()
    sys.exit(code)
