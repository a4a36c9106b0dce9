# Stage 5: publication tables (CSV, Markdown, LaTeX, HTML, Word, Excel) and figures.


rule export_publication:
    input:
        codebook="data/coded/{study}/codebook.yaml",
        derived=result("derive", "derived"),
        models=result("models", "models"),
        reproduction=reproduction_input,
    output:
        tables=report(
            directory(result("export", "tables")),
            patterns=["{name}.html"],
            caption="../report/tables.rst",
            category="Tables",
            subcategory="{study}",
        ),
        latex=result("export", "latex"),
        summary=report(
            result("export", "summary"),
            caption="../report/summary.rst",
            category="Tables",
            subcategory="{study}",
        ),
        docx=report(
            result("export", "docx"),
            caption="../report/docx.rst",
            category="Tables",
            subcategory="{study}",
        ),
        xlsx=report(
            result("export", "xlsx"),
            caption="../report/xlsx.rst",
            category="Tables",
            subcategory="{study}",
        ),
    params:
        # the whole plan: display options (publication:) re-run only this job
        plan=lambda wildcards: plan_part(wildcards.study, "export"),
        results=lambda wildcards, output: str(Path(output.latex).parent.parent),
    log:
        "logs/export_publication/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} export --study {wildcards.study} --format all --results {params.results} --invalidate"


rule export_figures:
    # apart from the tables, so that both run at once: the figures need only the models' results
    input:
        codebook="data/coded/{study}/codebook.yaml",
        derived=result("derive", "derived"),
        models=result("models", "models"),
    output:
        figures=report(
            directory(result("figures", "figures")),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
            subcategory="{study}",
        ),
    params:
        plan=lambda wildcards: plan_part(wildcards.study, "figures"),
        results=lambda wildcards, output: str(Path(output.figures).parent.parent),
    priority: 1
    log:
        "logs/export_figures/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} figures --study {wildcards.study} --results {params.results} --invalidate"
