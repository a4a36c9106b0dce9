# Stage 1: the study must make sense (codebook, plan) and its coded cases must
# pass the codebook's schema before anything else runs.


rule check_study:
    # Only requested for a study whose codebook or plan is broken (see PROBLEMS in
    # common.smk): it removes the study's results, says why, and fails.
    output:
        result("check", "problem"),
    log:
        "logs/check_study/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} check --study {wildcards.study} --invalidate"


rule validate_cases:
    input:
        cases="data/coded/{study}/cases.csv",
        codebook="data/coded/{study}/codebook.yaml",
    output:
        validated=result("validate", "validated"),
    priority: PRIORITY["validate"]
    log:
        "logs/validate_cases/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} validate --study {wildcards.study} --out {output.validated} --invalidate"


# Runs beside validation, not after it (the chain the run's other jobs wait on is shorter by one job): its
# `load_cases` validates the cases as validation does, so bad data fails here with the same report.
rule check_coding:
    input:
        codebook="data/coded/{study}/codebook.yaml",
        cases="data/coded/{study}/cases.csv",
        raw=raw_files,
    output:
        confirmation=result("check_coding", "confirmation"),
    priority: PRIORITY["check_coding"]
    log:
        "logs/check_coding/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} check-coding --study {wildcards.study} --out {output.confirmation} --invalidate"
