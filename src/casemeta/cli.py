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

from casemeta import __version__, atomic_io, options
from casemeta.errors import CasemetaError, file_error
from casemeta.paths import check_outputs, check_study_name
from casemeta.publish import FORMATS as EXPORT_FORMATS
from casemeta.study import DOWNSTREAM, RESULTS, discover_studies, find_project_root, get_study

log = logging.getLogger("casemeta")
COMMANDS: dict[str, tuple[str, tuple, object]] = {}


def arg(*flags, role: str | None = None, **options):
    """One option of a command, as argparse's add_argument takes it. `role` marks a path the command reads
    ("in"), writes ("out") or writes its files into ("out_dir"): every command's outputs pass one guard
    (casemeta.paths.check_outputs) before it starts."""
    return flags, {**options, **({"role": role} if role else {})}


STUDY = arg("--study", required=True, help="study name (see `casemeta studies`)")
DERIVED = arg("--derived", type=Path, role="in", help="derived cases CSV (default: the study's results/<study>/derived_cases.csv)")
# the Monte Carlo exact tests of large r×c tables: every step that tests (models, case influence, multiverse chunks)
# takes the same draws and seed, so a test without a case or in a universe is the one the main run would compute
DRAWS = arg("--draws", type=options.DRAWS, default=100_000, help="Monte Carlo draws for large r×c tables (default: 100000)")
SEED = arg("--seed", type=options.SEED, default=20150827, help="Monte Carlo seed (default: 20150827)")
RESULTS_FOLDER = arg("--results", type=Path, role="results",
                     help="results folder to read and write (default: results/ of the project); never under data/ or analysis/")
# the results files a publication step reads; the workflow names each, a user may leave them to the study's own
MODEL_FILES = {"crosstabs": "crosstabs", "tests": "exact tests", "models": "logistic models",
               "cross_validation": "out-of-sample checks"}  # the models step's files, by their key in casemeta.study


def model_file_args(role: str) -> tuple:
    """--crosstabs, --tests, --models, --cross-validation: the models step's files, read ("in") or written ("out")."""
    verb = " to write" if role == "out" else ""
    return tuple(arg(f"--{key.replace('_', '-')}", type=Path, role=role,
                     help=f"{what} CSV{verb} (default: {RESULTS['models'][key].format(study='<study>')})")
                 for key, what in MODEL_FILES.items())


RESULT_INPUTS = (
    arg("--derived", type=Path, role="in", help="derived cases CSV (default: results/<study>/derived_cases.csv)"),
    *model_file_args("in"),
    arg("--reproduction", type=Path, role="in",
        help="reproduction CSV, where the plan reproduces (default: results/<study>/reproduction.csv)"),
)
# the column identifying a case in coders' files given to `casemeta reliability` without --study
RELIABILITY_ID = "case_id"


INVALIDATE = arg("--invalidate", action="store_true",
                 help="first remove the study's results that later workflow steps make from this one "
                      "(the workflow passes this, so that a failed run leaves no stale table)")


def command(name: str, help: str, *arguments, step: str | None = None):
    """Register a sub-command with its options; the decorated function runs it.

    A workflow `step` (a key of casemeta.study.DOWNSTREAM) also takes --invalidate.
    """
    if step is not None:
        assert step in DOWNSTREAM, step
        arguments = (*arguments, INVALIDATE)

    def register(func):
        COMMANDS[name] = (help, arguments, func, step)
        return func
    return register


def _root(args) -> Path:
    """The project folder: --root, or the nearest folder above the working directory holding Snakefile and analysis/."""
    if getattr(args, "_project", None) is None:
        args._project = args.root if args.root is not None else find_project_root(Path.cwd())
    return args._project


def _study(args):
    return get_study(_root(args), args.study)


def _studies_or_fail(root: Path) -> list[str]:
    names = discover_studies(root)
    if not names:
        raise CasemetaError(f"{root}: no studies found; a study needs analysis/<name>.yaml and data/coded/<name>/codebook.yaml")
    return names


@command("studies", "list the studies found in analysis/ and data/coded/")
def _studies(args):
    for name in _studies_or_fail(_root(args)):
        print(name)


@command("clear", "remove a study's results of the named workflow steps (what the workflow does before a step re-runs)",
         STUDY, arg("steps", nargs="+", type=options.one_of("step", [s for s in DOWNSTREAM if s != "check"]),
                    metavar="STEP", help="workflow steps: " + ", ".join(s for s in DOWNSTREAM if s != "check")))
def _clear(args):
    removed = _study(args).clear(args.steps)
    print(f"removed {len(removed)} result(s)" + "".join(f"\n  {p}" for p in removed))


@command("check", "check a study's codebook and analysis plan (every variable the plan names exists and fits its role)",
         STUDY, step="check")
def _check(args):
    study = _study(args)
    from casemeta.plan import load_plan

    load_plan(study.plan_path, study.codebook())
    print(f"{study.name}: codebook and analysis plan are consistent")


@command(
    "validate", "check coded cases against the codebook without writing anything to data/",
    arg("--study", help="study name (default: every study)"),
    arg("--out", type=Path, role="out", help="write the validated cases here (one study only)"),
    step="validate",
)
def _validate(args):
    from casemeta.steps import pipeline

    names = [args.study] if args.study else _studies_or_fail(_root(args))
    if (args.out or args.invalidate) and not args.study:
        raise CasemetaError("--out and --invalidate need --study")
    data = (_root(args) / "data").resolve()
    if args.out is not None and args.out.resolve().is_relative_to(data):
        raise CasemetaError(f"--out {args.out}: inside {data}; validate never writes there (coded data change only "
                            "through add-case and code): choose a file under results/")
    failures = []
    for name in names:
        try:
            cases = pipeline.validate_study(get_study(_root(args), name), args.out)
            print(f"{name}: {len(cases)} case(s) valid")
        except CasemetaError as exc:
            if len(names) == 1:  # its own report, word for word as every other step that reads the cases gives it
                raise
            failures.append(str(exc).replace("\n", "\n    "))  # its problems under its own line, not beside it
    if failures:
        raise CasemetaError("validation failed", failures)


@command("code", "recode data/coded/<study>/cases.csv from data/raw/ with the codebook rules (keeps added cases)", STUDY)
def _code(args):
    from casemeta.run_lock import coded_data_change
    from casemeta.steps import pipeline

    study = _study(args)
    with coded_data_change(study.root, "code", study.relative(study.cases_path)):  # never while a workflow run reads it
        print(f"wrote {pipeline.code_study(study)}")


@command(
    "check-coding", "fail if the coded file differs from what the codebook rules give from data/raw/",
    STUDY, arg("--out", type=Path, required=True, role="out", help="where to write the confirmation"),
    step="check_coding",
)
def _check_coding(args):
    from casemeta.steps import pipeline

    pipeline.check_coding(_study(args), args.out)


@command(
    "derive", "add the codebook's derived variables to validated cases",
    STUDY,
    arg("--cases", type=Path, required=True, role="in",
        help="validated cases CSV (validate's --out; the study's own data/coded file is validated first)"),
    arg("--out", type=Path, required=True, role="out", help="derived cases CSV to write"),
    step="derive",
)
def _derive(args):
    from casemeta.steps import pipeline

    pipeline.derive_study(_study(args), args.cases, args.out)


@command(
    "reproduce", "compare recomputed tables with the published numbers",
    STUDY,
    arg("--derived", type=Path, required=True, role="in", help="derived cases CSV"),
    arg("--out", type=Path, required=True, role="out", help="reproduction.csv to write"),
    arg("--checks", type=Path, required=True, role="out", help="consistency.csv to write"),
    arg("--report", type=Path, required=True, role="out", help="reproduction.md to write"),
    step="reproduce",
)
def _reproduce(args):
    from casemeta.steps import pipeline

    pipeline.reproduce_study(_study(args), args.derived, args.out, args.checks, args.report)


@command(
    "models", "run the plan's cross-tab tests, logistic models and leave-one-out checks",
    STUDY,
    DERIVED,
    *model_file_args("out"),
    DRAWS,
    SEED,
    step="models",
)
def _models(args):
    from casemeta.steps import pipeline
    from casemeta.study import RESULTS

    study = _study(args)
    outputs = {key: getattr(args, key) or study.result("models", key) for key in RESULTS["models"]}
    pipeline.models_study(study, args.derived, outputs, args.draws, args.seed)


@command(
    "fit", "fit one logistic model to a CSV: ML, Firth, or auto (Firth where cases separate)",
    arg("data", type=Path, role="in", help="CSV with the outcome and predictors as columns"),
    arg("--formula", required=True, help='model, e.g. "y ~ x1 + x2"'),
    arg("--method", type=options.METHOD, default="auto", metavar="{ml,firth,auto}", help="default: auto"),
    arg("--correction", type=options.CORRECTION, default="none", metavar="{none,flic,flac}",
        help="Firth only: FLIC or FLAC make the mean predicted probability equal the event rate (default: none)"),
    arg("--test", action="append", default=[], metavar="TERMS",
        help='test a set of terms jointly, e.g. "vic + vicl": (penalized) likelihood ratio of the model without them; repeatable'),
    arg("--interval", type=options.one_of("--interval", ["profile", "wald"]), default="profile", metavar="{profile,wald}",
        help="Firth only: profile penalized-likelihood limits (default) or Wald limits (faster at large n)"),
    arg("--out", type=Path, required=True, role="out", help="CSV to write, one row per term (and per --test)"),
    arg("--table", type=Path, role="out", help="also write the formatted model table: .tex, .md, .html, .docx or .xlsx"),
)
def _fit(args):
    import pandas as pd

    from casemeta.coded.case_table import read_text
    from casemeta.stats.logistic_models import fit_logistic  # statsmodels takes ~1.4 s to import: only here

    text = read_text(args.data)
    if not text.strip():
        raise CasemetaError(f"{args.data}: the file is empty; expected a header line with the outcome and predictors as columns")
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, ValueError) as exc:
        raise CasemetaError(f"{args.data}: not a well-formed CSV ({str(exc).strip()}); check the separators and quotes") from None
    fit = fit_logistic(frame, args.formula, args.method, source=str(args.data), correction=args.correction,
                       tests=args.test, interval=args.interval)
    for caveat in fit.caveats:
        log.warning("%s", caveat.message())
    if args.table is not None:
        from casemeta.steps.exports import check_table_path

        check_table_path(args.table)  # before any file is written
    atomic_io.write_csv(args.out, fit.table())
    wrote = [args.out]
    if args.table is not None:
        from casemeta.publish.tables import fit_table
        from casemeta.steps.exports import write_table

        wrote.append(write_table(fit_table(fit.table(), args.formula), args.table))
    print(f"{fit.method} fit of {args.formula} on {fit.n} cases; separation: {fit.separation.describe()}; "
          f"wrote {', '.join(map(str, wrote))}")


@command(
    "export", "write a study's tables (and figures) for publication: LaTeX, Markdown, HTML, CSV, Word, Excel",
    STUDY,
    arg("--format", action="append", required=True, type=options.one_of("--format", [*EXPORT_FORMATS, "all"]),
        metavar="{" + ",".join([*EXPORT_FORMATS, "all"]) + "}", help="repeat for several; all = every format"),
    RESULTS_FOLDER,
    *RESULT_INPUTS,
    arg("--out", type=Path, nargs="+", role="out",
        help="the files to write, as the workflow declares them (default: the study's own, under results/<study>/)"),
    arg("--figures", action="store_true", help="also draw the figures (as `casemeta figures` does)"),
    step="export",
)
def _export(args):
    from casemeta.steps.exports import export_figures, export_tables

    formats = list(EXPORT_FORMATS) if "all" in args.format else args.format
    study = _study(args)
    written = export_tables(study, args.results, formats, args.derived, _inputs(args, study), args.out)
    if args.figures:
        written += export_figures(study, args.results)
    print(f"wrote {len(written)} file(s) under {study.relative(study.at(args.results).results_dir)}")


@command(
    "figures", "draw a study's figures, PNG and PDF: a heat map of each cross-tab, a forest plot of the models",
    STUDY,
    RESULTS_FOLDER,
    arg("--crosstabs", type=Path, role="in", help="crosstabs CSV (default: the study's results/<study>/models/crosstabs.csv)"),
    arg("--models", type=Path, role="in",
        help="logistic models CSV (default: the study's results/<study>/models/logistic_models.csv)"),
    arg("--out", type=Path, nargs="+", role="out",
        help="the files to write, as the workflow declares them (default: the study's own, under results/<study>/figures/)"),
    step="figures",
)
def _figures(args):
    from casemeta.steps.exports import export_figures

    study = _study(args).at(args.results)
    inputs = {key: getattr(args, key) or study.result("models", key) for key in ("crosstabs", "models")}
    written = export_figures(study, None, inputs, args.out)
    print(f"wrote {len(written)} figure file(s) under {study.relative(study.results_dir / 'figures')}")


def _inputs(args, study) -> dict[str, Path] | None:
    """The results files export reads, where the command names them (the workflow does); None: the study's own."""
    given = {key: getattr(args, key) for key in ("crosstabs", "tests", "models", "cross_validation", "reproduction")}
    if not any(given.values()):
        return None
    from casemeta.plan import load_plan
    from casemeta.steps.exports import model_inputs

    defaults = model_inputs(study.at(args.results), load_plan(study.plan_path, study.codebook()))
    return {key: given[key] or path for key, path in defaults.items()}


@command(
    "new-case", "write a blank case template with every codebook variable, its allowed values and description",
    STUDY, arg("--out", type=Path, role="out", help="file to write (default: print); use .yaml, or .xlsx with --format xlsx"),
    arg("--format", type=options.one_of("--format", ["yaml", "xlsx"]), metavar="{yaml,xlsx}",
        help="yaml template (default) or xlsx coding form (default: from --out's suffix)"),
    arg("--cases", type=options.whole_number("--cases", 1, 10_000), default=10, help="xlsx: rows to fill (default: 10)"),
    arg("--coder", default="", help="xlsx: the coder's name, written into every row"),
)
def _new_case(args):
    from casemeta.coded.case_entry import case_template

    if (args.format or ("xlsx" if args.out is not None and args.out.suffix.lower() == ".xlsx" else "yaml")) == "xlsx":
        return _new_form(args)
    text = case_template(_study(args).codebook())
    if args.out is None:
        sys.stdout.write(text)
        return
    if args.out.exists():
        raise CasemetaError(f"{args.out}: exists already; choose another file (nothing was overwritten)")
    atomic_io.write_text(args.out, text)
    print(f"wrote {args.out}; fill it in, then: casemeta add-case --study {args.study} {args.out}")


# ---- coding with a team: spreadsheet forms, reconciliation of coders, provenance of cases (issue 22)
def _new_form(args):
    from casemeta.publish.coding_forms import write_form

    if args.out is None or args.out.suffix.lower() != ".xlsx":
        raise CasemetaError("--format xlsx: name the workbook to write with --out FILE.xlsx")
    if not 1 <= args.cases <= 10_000:
        raise CasemetaError(f"--cases {args.cases}: expected a number of rows from 1 to 10000")
    if args.out.exists():
        raise CasemetaError(f"{args.out}: exists already; choose another file (nothing was overwritten)")
    write_form(_study(args).codebook(), args.out, args.cases, args.coder.strip())
    print(f"wrote {args.out}; fill in the sheet 'cases', then: casemeta add-case --study {args.study} {args.out}")


@command(
    "reconcile", "coders' files (xlsx forms or CSV) into a consensus workbook with every disagreement to decide; "
                 "or one decided consensus workbook into the agreed cases (CSV) for add-case",
    STUDY, arg("files", type=Path, nargs="+", role="in", help="two or more coders' files; or one consensus workbook"),
    arg("--out", type=Path, required=True, role="out", help="consensus .xlsx to write (coders' files), or agreed .csv (a consensus)"),
)
def _reconcile(args):
    from casemeta.steps import reconcile

    study = _study(args)
    data = (_root(args) / "data").resolve()
    if args.out.resolve().is_relative_to(data):
        raise CasemetaError(f"--out {args.out}: inside {data}; cases enter data/ only through add-case: choose another folder")
    if len(args.files) == 1 and reconcile.is_consensus(args.files[0]):
        done = reconcile.finish(study.codebook(), args.files[0], args.out)
        print(f"wrote {args.out}: {done['cases']} agreed case(s); add them: casemeta add-case --study {args.study} {args.out}")
        return
    done = reconcile.compare(study.codebook(), args.files, args.out)
    print(f"wrote {args.out}: {done['cases']} case(s) coded by two or more coders, {done['disagreements']} disagreement(s) "
          f"to decide, {len(done['single'])} case(s) coded by one coder only; decide each in the sheet 'disagreements', "
          f"then: casemeta reconcile --study {args.study} {args.out} --out agreed.csv")


@command("cases", "list a study's coded cases; --provenance: with where each came from (source, pages, coders, date)",
         STUDY, arg("--provenance", action="store_true", help="add the provenance of each case (data/coded/<study>/provenance.csv)"))
def _cases(args):
    import pandas as pd

    from casemeta.coded.case_table import read_cases
    from casemeta.coded.provenance import COLUMNS, provenance_path, read_provenance

    study = _study(args)
    codebook = study.codebook()
    frame = read_cases(study.cases_path, codebook)[0]
    ids = frame[codebook.id_column].str.strip() if codebook.id_column in frame.columns else pd.Series(dtype=str)
    listing = pd.DataFrame({codebook.id_column: ids})
    if args.provenance:
        records = read_provenance(provenance_path(study.cases_path)).drop_duplicates("case_id", keep="last")
        listing = listing.merge(records.rename(columns={"case_id": codebook.id_column}), how="left",
                                on=codebook.id_column).reindex(columns=[codebook.id_column, *COLUMNS[1:]]).fillna("")
    print(f"{study.name}: {len(listing)} case(s)" + (" (provenance blank: added before provenance was kept, or recoded "
          "from data/raw)" if args.provenance and (listing["added_on"] == "").any() else ""))
    if len(listing):
        print(listing.to_string(index=False))


@command(
    "add-case", "validate a filled template, coding form (.xlsx) or CSV of coded cases and append it to data/coded/<study>/cases.csv",
    STUDY, arg("file", type=Path, role="in", help="filled template (.yaml), coding form (.xlsx) or CSV with the study's coded columns"),
)
def _add_case(args):
    from casemeta.coded.case_entry import add_cases

    from casemeta.run_lock import coded_data_change

    study = _study(args)
    with coded_data_change(study.root, "add-case", study.relative(study.cases_path)):  # never while a workflow run reads it
        added = add_cases(study.codebook(), study.cases_path, args.file)
    print(f"added {added} case(s) to {study.relative(study.cases_path)}; run `snakemake --cores 2` to update every table")


@command(
    "reliability", "agreement between coders of the same cases: percent agreement, Cohen's kappa, Gwet's AC1, "
                   "Krippendorff's alpha, each with its standard error and 95% interval",
    arg("files", type=Path, nargs="+", role="in", help="two or more coders' CSV files of the same cases"),
    arg("--out", type=Path, required=True, role="out", help="per-variable agreement CSV to write"),
    arg("--disagreements", type=Path, role="out", help="disagreements CSV (default: OUT_disagreements.csv)"),
    arg("--study", help="validate each file against this study's codebook and score its coded variables only"),
    arg("--id", help=f"column identifying a case (default: the study's identifier, or {RELIABILITY_ID} without --study)"),
)
def _reliability(args):
    from casemeta.steps.reliability_files import coder_reliability

    codebook = _study(args).codebook() if args.study else None
    id_column = args.id if args.study else (args.id or RELIABILITY_ID)
    from casemeta.publish.formats import spreadsheet_safe_frame

    out_disagreements = args.disagreements or args.out.with_name(args.out.stem + "_disagreements.csv")
    if args.disagreements is None:  # the default name may be one of the coders' files too
        guard_paths(args, [("--disagreements (default)", out_disagreements)])
    table, disagreements, _ = coder_reliability(args.files, id_column, codebook)
    atomic_io.write_csv(args.out, table)
    # coders' own text, opened in a spreadsheet to reconcile: a cell such as =HYPERLINK(...) must not run
    atomic_io.write_csv(out_disagreements, spreadsheet_safe_frame(disagreements))
    print(f"wrote {args.out} ({len(table)} variables) and {out_disagreements} ({len(disagreements)} disagreements to reconcile)")


def _qca_spec(args, columns: list[str]):
    from casemeta.stats.qca import Cuts, QcaSpec

    conditions = options.column_list(args.conditions, "--conditions")
    if args.outcome in conditions:
        raise CasemetaError(f"--conditions {args.conditions!r}: the outcome {args.outcome!r} is among the conditions; "
                            "a set cannot explain itself: leave it out of --conditions")
    unknown = options.missing_columns(args.data, [args.outcome, *conditions], columns, "--outcome, --conditions")
    if unknown:
        raise CasemetaError(unknown)
    bad = [c for c in args.dir_exp if c not in conditions]
    if bad:
        raise CasemetaError(f"--dir-exp: {', '.join(map(repr, bad))}: not among the conditions {', '.join(conditions)}; "
                            "each expectation names a condition")
    bad = [c for c in args.calibrate if c not in (args.outcome, *conditions)]
    if bad:
        raise CasemetaError(f"--calibrate: {', '.join(map(repr, bad))}: neither the outcome nor a condition; "
                            "each calibration names a set of this QCA")
    incl = args.incl_cut if isinstance(args.incl_cut, list) else [args.incl_cut]
    return QcaSpec(args.outcome, conditions, Cuts(incl=float(incl[0]), n=int(args.n_cut), pri=float(args.pri_cut),
                                                  excl=float(incl[1]) if len(incl) > 1 else None),
                   dict(args.dir_exp), negate=args.negate, superset=args.superset)


def _case_names(frame: pd.DataFrame, column: str, source) -> pd.Index:
    """The cases' names: each given once, none blank, no control character (they are printed in every table)."""
    import pandas as pd

    from casemeta.coded.case_table import physical_line
    from casemeta.coded.schema import CONTROL_CHARACTER

    names = frame[column].str.strip()
    problems = []
    for i, name in enumerate(names):
        where = f"{source}: line {physical_line(frame, i)}, column {column!r}"
        if not name:
            problems.append(f"{where}: the case's name is empty; expected a name for every case")
        elif (bad := CONTROL_CHARACTER.search(name)) is not None:
            problems.append(f"{where}: value {name!r} holds the control character U+{ord(bad.group()):04X}; "
                            "expected printable text")
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name in first:
            problems.append(f"{source}: line {physical_line(frame, i)}, column {column!r}: case {name!r} is given twice "
                            f"(first on line {physical_line(frame, first[name])}); expected one row per case")
        first.setdefault(name, i)
    if problems:
        raise CasemetaError(f"{source}: {len(problems)} problem(s) with the cases' names", problems)
    return pd.Index(names, name=column)


@command(
    "qca", "crisp- or fuzzy-set QCA of a CSV: truth table, conservative/parsimonious/intermediate solutions, necessity",
    arg("data", type=Path, role="in", help="CSV, one row per case: memberships (0/1 crisp, between 0 and 1 fuzzy)"),
    arg("--outcome", required=True, help="outcome column"),
    arg("--conditions", required=True, help="condition columns, e.g. A,B,C (the order of the notation)"),
    arg("--id", help="column naming the cases (default: the first column)"),
    arg("--incl-cut", type=options.INCL_CUT, default=1,
        help="inclusion cut for OUT = 1; 'I,E' also marks C (contradiction) from E (default: 1)"),
    arg("--n-cut", type=options.N_CUT, default=1, help="fewest cases for a configuration not to be a remainder (default: 1)"),
    arg("--pri-cut", type=options.PRI_CUT, default=0.0, help="PRI cut for OUT = 1 (default: 0)"),
    arg("--dir-exp", type=options.DIR_EXP, default={},
        help="directional expectations for the intermediate solution, e.g. A=1,B=0"),
    arg("--calibrate", type=options.CALIBRATE, default={},
        help="direct calibration of raw columns: VAR=full_out:crossover:full_in, comma-separated"),
    arg("--negate", action="store_true", help="explain the absence of the outcome"),
    arg("--superset", action="store_true", help="necessity: search conjunctions passing inclN 0.9 and covN 0.6"),
    arg("--out", type=Path, required=True, role="out_dir", help="folder for truth_table.csv, solutions.csv, necessity.csv"),
)
def _qca(args):
    from casemeta.coded.case_table import parse_csv, read_text
    from casemeta.steps.qca_runs import calibrated, write_qca

    wanted = [args.id or "(the cases' names)", args.outcome, *options.column_list(args.conditions, "--conditions")]
    frame = parse_csv(read_text(args.data), args.data, wanted)  # every cell as text, rows know their line
    case_column = args.id or frame.columns[0]
    if case_column not in frame.columns:
        raise CasemetaError(options.missing_columns(args.data, [case_column], list(frame.columns), "--id"))
    spec = _qca_spec(args, list(frame.columns))
    frame = frame.set_axis(_case_names(frame, case_column, args.data)).drop(columns=case_column)
    try:
        frame = calibrated(frame, args.calibrate)
        result = write_qca(frame, spec, args.out)
    except CasemetaError as exc:
        raise CasemetaError(f"{args.data}: {exc}") from exc
    for caveat in result.caveats:
        log.warning("%s", caveat.message())
    found = ", ".join(f"{s} {len(m)} model(s)" for s, m in result.solutions.groupby("solution", sort=False)["model"].unique().items())
    print(f"QCA of {spec.outcome_label} on {len(frame)} case(s): {len(result.truth_table)} configuration(s) observed, "
          f"{result.remainders} remainder(s); {found or 'no solution'}; wrote {args.out}/truth_table.csv, solutions.csv, necessity.csv")


@command(
    "qca-study", "run the QCAs of a study's plan on its derived cases: CSVs, tables in every format, XY plots",
    STUDY,
    DERIVED,
    arg("--out", type=Path, nargs="+", role="out",
        help="the files to write, as the workflow declares them (default: the study's own: results/<study>/qca.md and qca/)"),
    step="qca",
)
def _qca_study(args):
    from casemeta.steps.qca_runs import qca_study

    study = _study(args)
    written = qca_study(study, args.derived, args.out)
    print(f"wrote {len(written)} file(s): {study.relative(study.result('qca', 'summary'))} and the QCA files under "
          f"{study.relative(study.results_dir / 'qca')}")


@command(
    "case-influence", "refit every model and cross-tab test of a study's plan without each case in turn: the cases whose "
                      "removal changes a sign or the 5% significance, and a verdict per finding",
    STUDY,
    DERIVED,
    arg("--out", type=Path, nargs="+", role="out",
        help="the files to write, as the workflow declares them (default: the study's own under results/<study>/robustness/)"),
    DRAWS,
    SEED,
    step="case_influence",
)
def _case_influence(args):
    from casemeta.steps.influence_runs import case_influence_study

    study = _study(args)
    written = case_influence_study(study, args.derived, args.out, args.draws, args.seed)
    print(f"wrote {len(written)} file(s): {study.relative(study.result('case_influence', 'report'))}, "
          f"{study.relative(study.result('case_influence', 'changes'))} and the table under "
          f"{study.relative(study.results_dir / 'robustness' / 'case_influence')}")


@command(
    "robustness", "run a chunk of the universes of a study's multiverse (the plan's robustness: decisions): every "
                  "cross-tab test and model of the plan on each universe's re-derived data",
    STUDY,
    arg("--cases", type=Path, role="in", help="validated cases CSV (default: results/<study>/validated_cases.csv)"),
    arg("--chunk", type=int, default=1, help="which chunk to run, from 1 (default: 1)"),
    arg("--chunks", type=int, required=True, help="how many chunks the universes are split into (the plan's robustness/chunks)"),
    DRAWS,
    SEED,
    arg("--out", type=Path, nargs="+", role="out",
        help="the chunk's files, as the workflow declares them (default: results/<study>/robustness/chunks/<i>_of_<k>/)"),
    step="robustness_chunk",
)
def _robustness(args):
    from casemeta.steps.robustness import robustness_chunk

    study = _study(args)
    written = robustness_chunk(study, args.cases, args.chunk, args.chunks, args.out, args.draws, args.seed)
    print(f"wrote chunk {args.chunk} of {args.chunks}: {', '.join(str(study.relative(p)) for p in written)}")


@command(
    "robustness-gather", "merge the chunks of a study's multiverse: universes, specifications, summaries, "
                         "specification-curve inference, tables in every format, robustness.md",
    STUDY,
    arg("--chunk-files", type=Path, nargs="+", role="in",
        help="every chunk's files (default: the study's own, under results/<study>/robustness/chunks/)"),
    arg("--out", type=Path, nargs="+", role="out",
        help="the files to write, as the workflow declares them (default: the study's own, under results/<study>/robustness/)"),
    step="robustness",
)
def _robustness_gather(args):
    from casemeta.steps.robustness import gather

    study = _study(args)
    written = gather(study, args.chunk_files, args.out)
    print(f"wrote {len(written)} file(s) under {study.relative(study.results_dir / 'robustness')}")


@command(
    "pool", "pooled odds ratio of 2×2 tables across strata: Mantel–Haenszel, Peto, fixed and random effects "
    "(DL, REML), exact conditional, Cochran–Mantel–Haenszel and Tarone tests",
    arg("data", type=Path, role="in", help="CSV: one row per stratum with four counts (--counts), or one row per case (--condition, --outcome)"),
    arg("--stratum", required=True, help="column naming the stratum (e.g. the study)"),
    arg("--counts", help="four count columns A,B,C,D: condition 1 & outcome 1, condition 1 & outcome 0, "
                         "condition 0 & outcome 1, condition 0 & outcome 0"),
    arg("--condition", help="0/1 column of the condition (cases; blank = missing)"),
    arg("--outcome", help="0/1 column of the outcome (cases; blank = missing)"),
    arg("--out", type=Path, required=True, role="out", help="CSV to write, one row per method"),
    arg("--sensitivity", action="store_true",
        help="also write, beside --out, <stem>_leave1out.csv (every method refitted without each stratum) and "
             "<stem>_influence.csv (metafor's influence diagnostics of the fixed and random-effects models)"),
)
def _pool(args):
    from casemeta.coded.case_table import parse_csv, read_text
    from casemeta.stats.pooling import COLUMNS, pool  # statsmodels: only here
    from casemeta.stats.strata_tables import tables_from_cases, tables_from_counts

    if (args.counts is None) == (args.condition is None and args.outcome is None) or \
            (args.counts is None and (args.condition is None or args.outcome is None)):
        raise CasemetaError("give either --counts A,B,C,D or both --condition and --outcome")
    counts = [c.strip() for c in args.counts.split(",")] if args.counts is not None else None
    needed = [args.stratum, *(counts or [args.condition, args.outcome])]
    frame = parse_csv(read_text(args.data), args.data, needed)  # rows know their physical line, for errors
    source = str(args.data)
    missing = options.missing_columns(source, [c for c in needed if c], list(frame.columns))
    if missing:  # named here, with a look-alike column if the file has one (Unicode normalisation, spaces)
        raise CasemetaError(missing)
    if counts is not None:
        tables = tables_from_counts(frame, args.stratum, counts, source)
    else:
        tables = tables_from_cases(frame, args.stratum, args.condition, args.outcome, source)
    result = pool(tables)
    atomic_io.write_csv(args.out, result[list(COLUMNS)])
    mh = result.set_index("method").loc["mantel_haenszel"]
    print(f"{len(tables)} strata ({int(mh['k'])} informative); Mantel–Haenszel OR {mh['odds_ratio']:.4g}; wrote {args.out}")
    if args.sensitivity:
        from casemeta.stats.sensitivity import INFLUENCE_COLUMNS, LEAVE1OUT_COLUMNS, influence, influential, leave1out

        stem = args.out.with_suffix("")
        found = influence(tables)
        for path, frame, columns in ((Path(f"{stem}_leave1out.csv"), leave1out(tables), LEAVE1OUT_COLUMNS),
                                     (Path(f"{stem}_influence.csv"), found, INFLUENCE_COLUMNS)):
            atomic_io.write_csv(path, frame[list(columns)])
            print(f"wrote {path}")
        flagged = influential(found)
        print("influential (Viechtbauer and Cheung 2010): "
              + ("; ".join(f"{s} ({', '.join(m)})" for s, m in flagged.items()) or "none"))


@command(
    "synthesize", "pool each pair of concepts of analysis/synthesis.yaml across the studies: tables, pooled results, forest plot",
    arg("--studies", help="comma-separated studies to draw on (default: every study; '' for none)"),
    arg("--derived", type=Path, nargs="+", role="in", help="each study's derived cases CSV, in the order of --studies "
                                                "(default: results/<study>/derived_cases.csv)"),
    arg("--out", type=Path, nargs="+", role="out",
        help="the files to write, as the workflow declares them (default: every file under results/synthesis/)"),
)
def _synthesize(args):
    from casemeta.steps.synthesis import synthesize

    root = _root(args)
    studies = None if args.studies is None else [s.strip() for s in args.studies.split(",") if s.strip()]
    for name in studies or []:
        check_study_name(name, "--studies")
    written = synthesize(root, studies, args.derived, args.out)
    print(f"wrote {len(written)} file(s) under results/synthesis/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casemeta", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"casemeta {__version__}")
    parser.add_argument("--root", type=Path, help="project folder holding Snakefile, data/ and analysis/ "
                        "(default: the nearest such folder at or above the working directory)")
    parser.add_argument("--log", type=Path, help="also write messages to this file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, arguments, func, _) in COMMANDS.items():
        shown = help_text.replace("%", "%%")  # argparse formats help text with %: "95% interval" would crash --help
        p = sub.add_parser(name, help=shown, description=shown)
        for flags, spec in arguments:
            p.add_argument(*flags, **{k: v for k, v in spec.items() if k != "role"})
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
        # the rule's log is read afterwards: each line says when, so a long step's progress can be followed
        handler.setFormatter(logging.Formatter("%(asctime)s casemeta: %(message)s", datefmt="%H:%M:%S"))
        logging.getLogger().addHandler(handler)


def _paths(args, role: str) -> list[tuple[str, Path]]:
    """The (option, path) pairs of the command's options of this role, as the researcher gave them."""
    found = []
    for flags, spec in COMMANDS[args.command][1]:
        if spec.get("role") != role:
            continue
        dest = spec.get("dest") or next((f for f in flags if f.startswith("--")), flags[0]).lstrip("-").replace("-", "_")
        value = getattr(args, dest, None)
        for path in value if isinstance(value, list) else [value]:
            if path is not None:
                found.append((flags[0] if flags[0].startswith("-") else "input", Path(path)))
    return found


def _known_root(args) -> Path | None:
    try:
        return _root(args)
    except CasemetaError:  # a command on files outside any project (fit, qca, pool, reliability)
        return None


def guard_paths(args, extra_outputs: list[tuple[str, Path]] = ()) -> None:
    """No output of the command is one of its inputs or another of its outputs, or lands in the project's
    data/ or analysis/ (casemeta.paths.check_outputs); checked before anything is read or written."""
    from casemeta.study import QCA_TABLES

    outputs = _paths(args, "out") + [(o, p / f"{t}.csv") for o, p in _paths(args, "out_dir") for t in QCA_TABLES]
    outputs += _paths(args, "results")  # a results folder: a study's tables are written, and stale ones removed, below it
    if args.log is not None:
        outputs.append(("--log", args.log))
    check_outputs([*outputs, *extra_outputs], _paths(args, "in"), _known_root(args), args.command)


def main(argv: list[str] | None = None) -> int:
    try:
        # an option's type (casemeta.options) raises CasemetaError for a bad value: one message, as for a bad plan
        args = build_parser().parse_args(argv)
    except CasemetaError as exc:
        _setup_logging(None)
        log.error("error: %s", exc)
        return 1
    try:
        _setup_logging(None)  # until the guard has passed --log
        guard_paths(args)
        _setup_logging(args.log)
        step = COMMANDS[args.command][3]
        with atomic_io.folders_synced_at_end():
            if step is not None and args.invalidate:
                _study(args).clear_downstream(step)
            args.func(args)
    except CasemetaError as exc:
        log.error("error: %s", exc)
        return 1
    except OSError as exc:  # a file the researcher named, or a folder they cannot write
        log.error("error: %s", file_error(exc, "read or write"))
        return 1
    except Exception:  # a bug, not bad input: keep the traceback, in the log file too (the rule's log)
        log.exception("internal error in `casemeta %s`; please report it with this traceback", args.command)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
