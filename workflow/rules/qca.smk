# Stage 4b: configurational analysis (QCA) of each study's plan: truth table,
# conservative, parsimonious and intermediate solutions, necessity; tables in
# every format and XY plots under results/<study>/qca/, an account in qca.md.


rule qca:
    input:
        codebook="data/coded/{study}/codebook.yaml",
        derived=result("derive", "derived"),
    output:
        summary=report(
            result("qca", "summary"),
            caption="../report/qca.rst",
            category="QCA",
            subcategory="{study}",
        ),
        tables=directory(result("qca", "tables")),
    params:
        plan=lambda wildcards: plan_part(wildcards.study, "qca"),
        # the one display option the QCA tables follow (how many cases a cell lists)
        case_listing_limit=lambda wildcards: publication_option(wildcards.study, "case_listing_limit"),
    log:
        "logs/qca/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} qca-study --study {wildcards.study} --derived {input.derived}"
        " --out-dir {output.tables} --summary {output.summary} --invalidate"
