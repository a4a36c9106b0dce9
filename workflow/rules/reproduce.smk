# Stage 3: recompute the published tables and compare them number by number.


rule reproduce_published:
    input:
        codebook="data/coded/{study}/codebook.yaml",
        derived=result("derive", "derived"),
        raw=raw_files,
    output:
        reproduction=report(
            result("reproduce", "reproduction"),
            caption="../report/reproduction_csv.rst",
            category="Reproduction",
            subcategory="{study}",
        ),
        consistency=report(
            result("reproduce", "consistency"),
            caption="../report/consistency.rst",
            category="Reproduction",
            subcategory="{study}",
        ),
        report=report(
            result("reproduce", "report"),
            caption="../report/reproduction_md.rst",
            category="Reproduction",
            subcategory="{study}",
        ),
    params:
        plan=lambda wildcards: plan_part(wildcards.study, "reproduce"),
    priority: PRIORITY["reproduce"]
    log:
        "logs/reproduce_published/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} reproduce --study {wildcards.study} --derived {input.derived}"
        " --out {output.reproduction} --checks {output.consistency} --report {output.report} --invalidate"
