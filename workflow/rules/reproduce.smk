# Stage 3: recompute the published tables and compare them number by number.


rule reproduce_published:
    input:
        unpack(study_inputs),
        derived="results/{study}/derived_cases.csv",
        raw=raw_files,
    output:
        reproduction=report(
            "results/{study}/reproduction.csv",
            caption="../report/reproduction_csv.rst",
            category="Reproduction",
            subcategory="{study}",
        ),
        consistency=report(
            "results/{study}/consistency.csv",
            caption="../report/consistency.rst",
            category="Reproduction",
            subcategory="{study}",
        ),
        report=report(
            "results/{study}/reproduction.md",
            caption="../report/reproduction_md.rst",
            category="Reproduction",
            subcategory="{study}",
        ),
    log:
        "logs/reproduce_published/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} reproduce --study {wildcards.study} --derived {input.derived}"
        " --out {output.reproduction} --checks {output.consistency} --report {output.report}"
