# Shared helpers: config validation, study discovery, the list of final outputs.
from pathlib import Path

from snakemake.utils import validate

from casemeta.plan import load_plan
from casemeta.study import Study, discover_studies


validate(config, schema="../schemas/config.schema.yaml")

STUDIES = discover_studies(".") if config["studies"] == "all" else list(config["studies"])


wildcard_constraints:
    study="|".join(STUDIES) or "no_study_found",


def study(name):
    return Study(Path("."), name)


def is_transcribed(name):
    """The study is coded by rules from a transcription in data/raw/<study>/."""
    return study(name).codebook().raw is not None


def reproduces(name):
    """The study's plan compares our tables with published numbers."""
    return "reproduce" in load_plan(study(name).plan_path)


def raw_files(wildcards):
    return sorted(str(p) for p in study(wildcards.study).raw_dir.glob("*") if p.is_file())


def study_inputs(wildcards):
    """Files every analysis step of a study reads besides its data."""
    s = study(wildcards.study)
    return {"codebook": str(s.codebook_path), "plan": str(s.plan_path)}


def reproduction_input(wildcards):
    """The comparison with published numbers, for studies whose plan has one."""
    return [f"results/{wildcards.study}/reproduction.csv"] if reproduces(wildcards.study) else []


def coder_files(name):
    """Second (third ...) coders' files of the same cases, beside the study's data."""
    return sorted(str(p) for p in study(name).coders_dir.glob("*.csv"))


def all_outputs():
    outputs = []
    for name in STUDIES:
        outputs.append(f"results/{name}/derived_cases.csv")
        outputs.append(f"results/{name}/models/logistic_models.csv")
        outputs.append(f"results/{name}/tables.tex")
        if is_transcribed(name):
            outputs.append(f"results/{name}/coding_check.txt")
        if len(coder_files(name)) >= 2:
            outputs.append(f"results/{name}/reliability.csv")
        if reproduces(name):
            outputs.append(f"results/{name}/reproduction.md")
    return outputs
