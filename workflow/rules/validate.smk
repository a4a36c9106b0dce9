# Stage 1: the coded cases must pass the codebook's schema before anything else runs.


rule validate_cases:
    input:
        cases="data/coded/{study}/cases.csv",
        codebook="data/coded/{study}/codebook.yaml",
    output:
        validated="results/{study}/validated_cases.csv",
    log:
        "logs/validate_cases/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} validate --study {wildcards.study}"
        " --out {output.validated} --invalidate results/{wildcards.study}"


rule check_coding:
    input:
        unpack(study_inputs),
        cases="data/coded/{study}/cases.csv",
        validated="results/{study}/validated_cases.csv",  # validation always runs first
        raw=raw_files,
    output:
        confirmation="results/{study}/coding_check.txt",
    log:
        "logs/check_coding/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} check-coding --study {wildcards.study} --out {output.confirmation}"
