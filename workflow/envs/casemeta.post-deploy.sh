#!/usr/bin/env bash
# Run by `snakemake --use-conda` inside the environment it has just built, from
# the folder Snakemake was started in (the project root): installs this
# checkout's casemeta package (editable, so later code changes apply) without
# touching the dependencies the environment file already holds.
set -euo pipefail
if ! grep -q '^name = "casemeta"' pyproject.toml 2>/dev/null; then
  echo "casemeta post-deploy: $PWD is not the casemeta project root; run snakemake --use-conda from the folder holding Snakefile and pyproject.toml" >&2
  exit 1
fi
python -m pip install --no-deps --no-build-isolation -e "$PWD"
