# Shared helpers: config validation, study discovery, result paths, the list of final outputs.
# Every result path comes from casemeta.study.RESULTS (the one owner of the results layout).
import sys
import threading
from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

import casemeta
from casemeta.errors import CasemetaError
from casemeta.launch import first_on_path, only_shows, runs_jobs_here, snakemake_args
from casemeta.plan import load_plan
from casemeta import run_report
from casemeta.run_lock import WorkflowRun, running
from casemeta.study import RESULTS, SYNTHESIS, Study, discover_studies, half_studies, synthesis_files


validate(config, schema="../schemas/config.schema.yaml")


# A checkout of casemeta's sources (src/casemeta beside the Snakefile) run with another copy of the package installed:
# the jobs run that copy's code, not this checkout's. Said, not refused: it may be meant (an installed release).
_SOURCES, _IMPORTED = Path(workflow.basedir, "src", "casemeta"), Path(casemeta.__file__).resolve().parent
if _SOURCES.is_dir() and _IMPORTED != _SOURCES.resolve():
    logger.warning(f"this run uses the casemeta package in {_IMPORTED}, not this "
                   f"project's {_SOURCES}: its jobs run that code. To run this checkout, run snakemake with "
                   "PYTHONPATH=src, or from an environment of its own that has it installed (a virtual environment, "
                   "then `python3 -m pip install -e .` and `python3 -m snakemake`); installing it where the other "
                   "copy is installed would replace that one.")


# Jobs that run in this Python's environment (no --sdm conda or apptainer) find its `casemeta` first on PATH
# (casemeta.launch.first_on_path); with a deployment method, the rule's environment provides its own.
if not workflow.deployment_settings.deployment_method:
    first_on_path()


# One run at a time per project (casemeta.run_lock). A `snakemake` command that may change the project (a run, and
# --unlock, --touch, --delete-all-output, --cleanup-metadata ...) holds the project's run lock from here, as it reads
# the workflow: while another run holds it, it stops now, naming that run, before Snakemake's own messages (Directory
# cannot be locked; IncompleteFilesException over the files that run is writing), whose advice (--unlock,
# --rerun-incomplete, --cleanup-metadata) would harm that run. Two started together: one holds the lock, the other
# is refused. A command that only shows or checks the workflow (-n, --lint, a graph, a listing) is told and goes on;
# a run through Snakemake's Python API, which the command line does not tell, holds the lock from its onstart.
RUN = WorkflowRun(Path("."))
# Snakemake's own process, not one it starts for a job (on a cluster node, or for a job's `run:`): what follows is
# for the run, never for a job
MAIN = not (workflow.remote_exec or workflow.subprocess_exec)
SNAKEMAKE_ARGS = snakemake_args()  # its options as parsed (profiles, abbreviations), or None: its command line is read
if MAIN:
    if only_shows(sys.argv, SNAKEMAKE_ARGS) is False:
        RUN.start(" ".join(sys.argv))
    elif RUNNING := running(Path(".")):
        logger.warning(f"another workflow run is under way in this project: {RUNNING}. What this command shows may "
                       "change as that run goes on; a run started now would stop at once. Do not use --unlock, "
                       "--rerun-incomplete or --cleanup-metadata while it runs.")


# Jobs run on this machine start warm (casemeta.forkserver): one process imports the libraries once, and each
# job's `casemeta` is forked from it. Never for a cluster's jobs; `--config warm_jobs=false` turns it off.
# It starts now, unannounced, so that its imports (~2 s of CPU) run on the second core while Snakemake reads the
# workflow and builds the jobs (~1.3 s on one core); `onstart` announces it to the jobs, or stops it where the jobs
# run elsewhere. Whether they will is not known yet, nor whether any job runs: runs that only show or check the
# workflow (-n, --lint, a graph, a summary, a listing) or name another executor are told by their options and
# start none (casemeta.launch.runs_jobs_here); for any other, a server no job will use is ended when Snakemake
# exits, having written nothing.
WARM_WANTED = str(config.get("warm_jobs", True)).lower() == "true"
EARLY = None
if WARM_WANTED and MAIN and runs_jobs_here(sys.argv, SNAKEMAKE_ARGS):
    from casemeta import forkserver

    EARLY = forkserver.start("logs/warm_jobs.log", announce=False)


# The order in which Snakemake starts jobs that are ready together (higher first). With two cores and jobs of
# 0.05-2 s, a run ends when its last long job does: the short jobs that unlock others come first (validation,
# the coding check, derive, the models, the reproduction the export reads), then the longest jobs before the shorter ones, so that no long job is
# left to run alone at the end (longest-first list scheduling). Left to itself, Snakemake prefers the job with
# the most input bytes, which started the tables' export before QCA and case influence. The coding check, which
# runs beside validation, comes before the other studies' validation: derive waits on both.
PRIORITY = {"validate": 9, "check_coding": 10, "derive": 9, "models": 8, "robustness_chunk": 7,
            "robustness_gather": 6, "figures": 5, "qca": 4, "case_influence": 4, "synthesize": 3,
            "export": 2, "reproduce": 8}


def configured_studies():
    """`studies: all`, a list, or one name or several separated by commas (--config studies=NAME)."""
    chosen = config["studies"]
    if chosen == "all":
        return discover_studies(".")
    names = [chosen] if isinstance(chosen, str) else list(chosen)
    return [n.strip() for name in names for n in name.split(",") if n.strip()]


STUDIES = configured_studies()
# What looks meant as a study but is none (a plan named .yml, a codebook without a plan ...) is passed over by every
# run: said here, as the synthesis would otherwise pool the other studies without a word of it.
if MAIN:
    for _said in half_studies("."):
        logger.warning(f"not a study: {_said}")


wildcard_constraints:
    study="|".join(STUDIES) or "no_study_found",


def study(name):
    return Study(Path("."), name)


def result(step, key):
    """A result path with the {study} wildcard, for a rule's output or input."""
    return RESULTS[step][key]


def load_study(name):
    """The study's codebook and its plan checked against it, or a CasemetaError saying why not
    (unknown study, broken codebook, plan that does not fit)."""
    s = study(name)
    if name == SYNTHESIS:
        raise CasemetaError(f"{name!r} is not a study: analysis/{SYNTHESIS}.yaml is the plan of the synthesis across studies")
    if not s.codebook_path.is_file() or not s.plan_path.is_file():
        raise CasemetaError(f"unknown study {name!r}: needs {s.plan_path} and {s.codebook_path}")
    codebook = s.codebook()
    return codebook, load_plan(s.plan_path, codebook)


# Every study is read and checked once, when the workflow is read: a typo in a plan stops that
# study before any analysis, while the other studies run.
CHECKED, PROBLEMS = {}, {}
for name in STUDIES:
    try:
        CHECKED[name] = load_study(name)
    except CasemetaError as exc:
        PROBLEMS[name] = str(exc)
        logger.error(f"study {name}: {exc}")


def checked(name):
    """(codebook, plan) of a sound study; for a broken one, the error that says why."""
    return CHECKED[name] if name in CHECKED else load_study(name)


def plan_part(name, step):
    """The sections of the plan a step reads (casemeta.plan.STEP_SECTIONS), as canonical text: a
    rule takes them as a param, so that Snakemake re-runs it when, and only when, they change."""
    return checked(name)[1].section_text(step)


def publication_option(name, option):
    """One display option of the plan (`publication:`): a rule that follows only this option takes it
    as a param, so that other display changes do not re-run it."""
    return getattr(checked(name)[1].publication, option)


def step_files(name, step):
    """Every file a step writes for a sound study under its plan (casemeta.study: the one list the rule
    declares and the command writes), as paths relative to the project."""
    return [str(p) for p in study(name).files(step, checked(name)[1]).values()]


def is_transcribed(name):
    """The study is coded by rules from a transcription in data/raw/<study>/."""
    return checked(name)[0].raw is not None


def reproduces(name):
    """The study's plan compares our tables with published numbers."""
    return checked(name)[1].reproduce is not None


def influence_runs(name):
    """The study's plan asks for case influence (robustness: case_influence: true)."""
    return checked(name)[1].robustness.case_influence


def robustness_plan(name):
    """The study's multiverse (its plan's `robustness:` section with decisions), or None."""
    robustness = checked(name)[1].robustness
    return robustness if robustness.multiverse else None


def chunk_files(name, index):
    """The files of one chunk job of a study's multiverse (casemeta.study lists them)."""
    return [str(p) for p in study(name).chunk_files(checked(name)[1], index).values()]


def checked_cases_of(name):
    """checked_cases for a rule made per study (no wildcards)."""
    from types import SimpleNamespace

    return checked_cases(SimpleNamespace(study=name))


def raw_files(wildcards):
    return sorted(str(p) for p in study(wildcards.study).raw_dir.glob("*") if p.is_file())


def checked_cases(wildcards):
    """Validated cases, and for transcribed studies the coding check too: nothing is derived from
    codes that depart from what the codebook rules give."""
    inputs = {"cases": result("validate", "validated").format(study=wildcards.study)}
    if is_transcribed(wildcards.study):
        inputs["coding_check"] = result("check_coding", "confirmation").format(study=wildcards.study)
    return inputs


def reproduction_input(wildcards):
    """The comparison with published numbers, for studies whose plan has one."""
    return [result("reproduce", "reproduction").format(study=wildcards.study)] if reproduces(wildcards.study) else []


def coder_files(name):
    """Second (third ...) coders' files of the same cases, beside the study's data."""
    return sorted(str(p) for p in study(name).coders_dir.glob("*.csv"))


def has_synthesis():
    """The project pools concepts across studies (analysis/synthesis.yaml)."""
    return Path("analysis", f"{SYNTHESIS}.yaml").is_file()


def synthesis_studies():
    """The studies the synthesis draws on: every configured study whose codebook and plan are sound."""
    return [name for name in STUDIES if name not in PROBLEMS]


def _synthesis_pairs():
    """The (condition, outcome) pairs of analysis/synthesis.yaml, which name the synthesis tables; None (and the
    reason logged) where there is no synthesis plan; [] where it cannot be read."""
    from casemeta.synthesis import read_synthesis_pairs

    if not has_synthesis():
        return None
    try:
        return read_synthesis_pairs(Path("."))
    except CasemetaError as exc:  # its job still runs, and fails saying why
        logger.error(f"synthesis: {exc}")
        return []


SYNTHESIS_PAIRS = _synthesis_pairs()


def synthesis_runs():
    """The synthesis runs only when every study found is configured and sound: a run of some studies (--config
    studies=...) never rewrites the synthesis with fewer studies than the project holds, nor does a run in which a
    study's codebook or plan is broken (it pooled the others without a word of the one left out; that study's
    `check` removes the synthesis)."""
    return (SYNTHESIS_PAIRS is not None and bool(synthesis_studies()) and not PROBLEMS
            and set(discover_studies(".")) <= set(STUDIES))


def orphaned_reliability(name):
    """Agreement results of a study that no longer has two coders' files: they describe files that are gone."""
    return len(coder_files(name)) < 2 and any(Path(result("reliability", k).format(study=name)).exists()
                                               for k in RESULTS["reliability"])


def all_outputs():
    outputs = []
    for name in STUDIES:
        if name in PROBLEMS:
            outputs.append(result("check", "problem").format(study=name))
            continue
        for step, key in (("derive", "derived"), ("models", "models")):
            outputs.append(result(step, key).format(study=name))
        for step in ("export", "figures", "qca"):
            outputs += step_files(name, step)
        if is_transcribed(name):
            outputs.append(result("check_coding", "confirmation").format(study=name))
        if len(coder_files(name)) >= 2:
            outputs.append(result("reliability", "reliability").format(study=name))
        elif orphaned_reliability(name):
            outputs.append(result("forget_reliability", "forget").format(study=name))
        if reproduces(name):
            outputs.append(result("reproduce", "report").format(study=name))
        if influence_runs(name):
            outputs += step_files(name, "case_influence")
        if robustness_plan(name) is not None:
            outputs += step_files(name, "robustness")
    if synthesis_runs():  # no study to draw on, or only some configured: nothing to synthesize
        outputs += list(synthesis_files(SYNTHESIS_PAIRS).values())
    return outputs


def publication_outputs(name, step, caption, suffix):
    """The step's files, those ending in `suffix` shown in the Snakemake report."""
    return [report(p, caption=caption, category="Tables" if step == "export" else "Figures", subcategory=name)
            if p.endswith(suffix) else p for p in step_files(name, step)]


def model_results(name):
    """The models step's files of a study, as export and figures read them."""
    return {key: result("models", key).format(study=name) for key in RESULTS["models"]}


def synthesis_outputs():
    captions = {"studies": "synthesis_studies", "pooled": "synthesis_pooled", "forest": "synthesis_forest",
                "leave1out": "synthesis_leave1out", "influence": "synthesis_influence"}
    files = synthesis_files(SYNTHESIS_PAIRS or [])
    out = {key: report(path, caption=f"../report/{captions[key]}.rst", category="Synthesis") if key in captions
           else report(path, caption="../report/synthesis_tables.rst", category="Synthesis") if path.endswith(".html")
           else path for key, path in files.items()}
    return {key.replace(".", "_"): path for key, path in out.items()}  # keys name the outputs: no dots


def stop_scheduler_timers():
    """Snakemake's scheduler arms a one-second threading.Timer after each pass (its job-rate limit,
    --max-jobs-per-timespan, default 100/1s; snakemake/scheduling/job_scheduler.py,
    _schedule_reevalutation). The timer thread is not a daemon, so the last one kept every finished
    run alive for up to a second more. Once the run is over nothing waits on them: cancel them, and
    only them (a program that runs Snakemake in its own process may have timers of its own).
    Snakemake keeps one onsuccess and one onerror handler: a Snakefile adding its own calls this too."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer) and \
                getattr(thread.function, "__module__", "") == "snakemake.scheduling.job_scheduler":
            thread.cancel()


WARM = []
# The run's failed steps are summed up at its end (casemeta.run_report): each distinct error once, with its logs,
# rather than only where it scrolled past (keep-going runs on) or once per step that read the same bad file.
LOGS_AT_START = {}


# No change to coded data while a run reads them (casemeta.run_lock): `casemeta add-case` and `code` are
# refused while this run holds the lock (taken as the workflow was read, or here for a run through Snakemake's
# Python API), so no result is written from cases that changed under it while the next run found nothing to do.
# Hooks run in the main process only (Snakemake passes --no-hooks to the processes it spawns for jobs).
onstart:
    if not RUN.started:  # a run through Snakemake's Python API (a command line's holds it already)
        RUN.start(" ".join(sys.argv))
    LOGS_AT_START.update(run_report.state("logs"))
    from casemeta import forkserver

    if workflow.local_exec and WARM_WANTED and not workflow.touch:
        WARM.append(forkserver.run_server(EARLY, "logs/warm_jobs.log"))
    else:  # the log describes this run, not an earlier one
        if EARLY is not None:
            EARLY.discard()
        forkserver.not_started("logs/warm_jobs.log", "off (--config warm_jobs=false)" if not WARM_WANTED
                               else "off: the jobs only touch their files" if workflow.local_exec
                               else "off: the jobs run on a cluster")


def stop_warm_jobs():
    """The run's warm process, and one started early that no job used (a run with nothing to do)."""
    for handle in {*WARM, EARLY}:
        if handle is not None:
            handle.end()


def failed_jobs():
    """The run's failed jobs for run_report.summary: (the name and log files of each, whether they are the failed
    jobs). The list is Snakemake's scheduler's (JobScheduler.failed: not a documented interface, hence the fallback):
    without it, the logs this run wrote stand for the jobs, and only those holding an error are shown."""
    failed = getattr(getattr(workflow, "scheduler", None), "failed", None)
    try:
        jobs = [(job.rule.name + (f" ({', '.join(f'{k}={v}' for k, v in job.wildcards.items())})" if job.wildcards else ""),
                 [Path(str(p)) for p in job.log]) for job in failed]
        return jobs, True
    except (AttributeError, TypeError):
        return run_report.changed_logs("logs", LOGS_AT_START), False


onsuccess:
    RUN.finish()
    stop_warm_jobs()
    stop_scheduler_timers()


onerror:
    RUN.finish()
    stop_warm_jobs()
    stop_scheduler_timers()
    if RUN.started:
        jobs, are_failed = failed_jobs()
        if said := run_report.summary(jobs, failed=are_failed):
            logger.error(said)
