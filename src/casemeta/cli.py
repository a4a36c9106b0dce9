"""The `casemeta` command line: every workflow step, plus the researcher's everyday commands.

Each command declares its options next to the function that runs it; heavy
libraries (statsmodels, matplotlib) are imported only by the commands that use
them, so that quick commands start quickly.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from pathlib import Path

import pandas as pd

from casemeta import __version__, atomic_io
from casemeta.steps import pipeline
from casemeta.coded.case_table import read_text
from casemeta.errors import CasemetaError, file_error
from casemeta.publish.formats import FORMATS as EXPORT_FORMATS
from casemeta.study import discover_studies, get_study

log = logging.getLogger("casemeta")
COMMANDS: dict[str, tuple[str, tuple, object]] = {}


def arg(*flags, **options):
    """One option of a command, as argparse's add_argument takes it."""
    return flags, options


STUDY = arg("--study", required=True, help="study name (see `casemeta studies`)")


def command(name: str, help: str, *arguments):
    """Register a sub-command with its options; the decorated function runs it."""
    def register(func):
        COMMANDS[name] = (help, arguments, func)
        return func
    return register


def _study(args):
    return get_study(args.root, args.study)


@command("studies", "list the studies found in analysis/ and data/coded/")
def _studies(args):
    for name in discover_studies(args.root):
        print(name)


@command(
    "validate", "check coded cases against the codebook without writing anything to data/",
    arg("--study", help="study name (default: every study)"),
    arg("--out", type=Path, help="write the validated cases here (one study only)"),
    arg("--invalidate", type=Path, help="results folder to remove if validation fails"),
)
def _validate(args):
    names = [args.study] if args.study else discover_studies(args.root)
    if args.out and len(names) != 1:
        raise CasemetaError("--out needs exactly one --study")
    failures = []
    for name in names:
        try:
            cases = pipeline.validate_study(get_study(args.root, name), args.out, args.invalidate)
            print(f"{name}: {len(cases)} case(s) valid")
        except CasemetaError as exc:
            failures.append(str(exc))
    if failures:
        raise CasemetaError("validation failed", failures)


@command("code", "recode data/coded/<study>/cases.csv from data/raw/ with the codebook rules (keeps added cases)", STUDY)
def _code(args):
    print(f"wrote {pipeline.code_study(_study(args))}")


@command(
    "check-coding", "fail if the coded file differs from what the codebook rules give from data/raw/",
    STUDY, arg("--out", type=Path, required=True, help="where to write the confirmation"),
)
def _check_coding(args):
    pipeline.check_coding(_study(args), args.out)


@command(
    "derive", "add the codebook's derived variables to validated cases",
    STUDY,
    arg("--cases", type=Path, required=True, help="validated cases CSV"),
    arg("--out", type=Path, required=True, help="derived cases CSV to write"),
)
def _derive(args):
    pipeline.derive_study(_study(args), args.cases, args.out)


@command(
    "reproduce", "compare recomputed tables with the published numbers",
    STUDY,
    arg("--derived", type=Path, required=True, help="derived cases CSV"),
    arg("--out", type=Path, required=True, help="reproduction.csv to write"),
    arg("--checks", type=Path, required=True, help="consistency.csv to write"),
    arg("--report", type=Path, required=True, help="reproduction.md to write"),
)
def _reproduce(args):
    pipeline.reproduce_study(_study(args), args.derived, args.out, args.checks, args.report)


@command(
    "models", "run the plan's cross-tab tests, logistic models and leave-one-out checks",
    STUDY,
    arg("--derived", type=Path, required=True, help="derived cases CSV"),
    arg("--out-dir", type=Path, required=True, help="folder for the model tables"),
    arg("--draws", type=int, default=100_000, help="Monte Carlo draws for large r×c tables (default: 100000)"),
    arg("--seed", type=int, default=20150827, help="Monte Carlo seed"),
)
def _models(args):
    pipeline.models_study(_study(args), args.derived, args.out_dir, args.draws, args.seed)


@command(
    "fit", "fit one logistic model to a CSV: ML, Firth, or auto (Firth where cases separate)",
    arg("data", type=Path, help="CSV with the outcome and predictors as columns"),
    arg("--formula", required=True, help='model, e.g. "y ~ x1 + x2"'),
    arg("--method", choices=["ml", "firth", "auto"], default="auto", help="default: auto"),
    arg("--out", type=Path, required=True, help="CSV to write, one row per term"),
)
def _fit(args):
    from casemeta.stats.logistic_models import fit_logistic  # statsmodels takes ~1.4 s to import: only here

    frame = pd.read_csv(io.StringIO(read_text(args.data)))
    fit = fit_logistic(frame, args.formula, args.method, source=str(args.data))
    if fit.note:
        log.warning("%s", fit.note)
    atomic_io.write_csv(args.out, fit.table())
    print(f"{fit.method} fit of {args.formula} on {fit.n} cases; separation: {fit.separation.describe()}; wrote {args.out}")


@command(
    "export", "write a study's tables (and figures) for publication: LaTeX, Markdown, HTML, CSV, Word, Excel",
    STUDY,
    arg("--format", action="append", required=True, choices=[*EXPORT_FORMATS, "all"], help="repeat for several; all = every format"),
    arg("--results", type=Path, default=Path("results"), help="results folder the workflow wrote (default: results)"),
    arg("--figures", action="store_true", help="also draw the figures (PNG and PDF)"),
)
def _export(args):
    from casemeta.steps.exports import export_figures, export_tables

    formats = list(EXPORT_FORMATS) if "all" in args.format else args.format
    written = export_tables(_study(args), args.results, formats)
    if args.figures:
        written += export_figures(_study(args), args.results)
    print(f"wrote {len(written)} file(s) under {args.results / args.study}")


@command(
    "new-case", "write a blank case template with every codebook variable, its allowed values and description",
    STUDY, arg("--out", type=Path, help="file to write (default: print); use .yaml"),
)
def _new_case(args):
    from casemeta.coded.case_entry import case_template

    text = case_template(_study(args).codebook())
    if args.out is None:
        sys.stdout.write(text)
        return
    if args.out.exists():
        raise CasemetaError(f"{args.out}: exists already; choose another file (nothing was overwritten)")
    atomic_io.write_text(args.out, text)
    print(f"wrote {args.out}; fill it in, then: casemeta add-case --study {args.study} {args.out}")


@command(
    "add-case", "validate a filled template or a CSV of coded cases and append it to data/coded/<study>/cases.csv",
    STUDY, arg("file", type=Path, help="filled template (.yaml) or CSV with the study's coded columns"),
)
def _add_case(args):
    from casemeta.coded.case_entry import add_cases

    study = _study(args)
    added = add_cases(study, args.file)
    print(f"added {added} case(s) to {study.cases_path}; run `snakemake --cores 2` to update every table")


@command(
    "reliability", "agreement between coders of the same cases: percent agreement, Cohen's kappa, Krippendorff's alpha",
    arg("files", type=Path, nargs="+", help="two or more coders' CSV files of the same cases"),
    arg("--out", type=Path, required=True, help="per-variable agreement CSV to write"),
    arg("--disagreements", type=Path, help="disagreements CSV (default: OUT_disagreements.csv)"),
    arg("--id", default="case_id", help="column identifying a case (default: case_id)"),
)
def _reliability(args):
    from casemeta.stats.reliability import reliability

    table, disagreements = reliability(args.files, args.id)
    out_disagreements = args.disagreements or args.out.with_name(args.out.stem + "_disagreements.csv")
    atomic_io.write_csv(args.out, table)
    atomic_io.write_csv(out_disagreements, disagreements)
    print(f"wrote {args.out} ({len(table)} variables) and {out_disagreements} ({len(disagreements)} disagreements to reconcile)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casemeta", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"casemeta {__version__}")
    parser.add_argument("--root", type=Path, default=Path("."), help="project folder holding data/ and analysis/ (default: .)")
    parser.add_argument("--log", type=Path, help="also write messages to this file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, arguments, func) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        for flags, options in arguments:
            p.add_argument(*flags, **options)
        p.set_defaults(func=func)
    return parser


def _setup_logging(log_file: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=logging.INFO, format="casemeta: %(message)s", handlers=handlers, force=True)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        except OSError as exc:
            raise file_error(exc, "write", log_file) from exc
        handler.setFormatter(logging.Formatter("casemeta: %(message)s"))
        logging.getLogger().addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup_logging(args.log)
        args.func(args)
    except CasemetaError as exc:
        log.error("error: %s", exc)
        return 1
    except OSError as exc:
        # A file the researcher named or a folder they cannot write; a bug in
        # casemeta raises other exceptions and keeps its traceback.
        log.error("error: %s", file_error(exc, "use"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
