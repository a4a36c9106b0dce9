# Stage 5: publication tables (CSV, Markdown, LaTeX, HTML, Word, Excel) and figures.
#
# Which tables and figures a study has follows its plan (one table and one heat map per condition,
# one model table per outcome ...), so these rules are made per study, each declaring every file it
# writes (casemeta.study lists them; the command checks that --out names the same files).


for _name in CHECKED:

    rule:
        name:
            f"export_publication_{_name}"
        input:
            codebook=f"data/coded/{_name}/codebook.yaml",
            derived=result("derive", "derived").format(study=_name),
            **model_results(_name),
            reproduction=[result("reproduce", "reproduction").format(study=_name)] if reproduces(_name) else [],
        output:
            publication_outputs(_name, "export", "../report/tables.rst", ".html"),
        params:
            study=_name,
            # the whole plan: display options (publication:) re-run only this job
            plan=plan_part(_name, "export"),
            reproduction=lambda wildcards, input: f"--reproduction {input.reproduction}" if input.reproduction else "",
        priority: PRIORITY["export"]
        log:
            f"logs/export_publication/{_name}.log",
        conda:
            "../envs/casemeta.yaml"
        shell:
            "casemeta --log {log} export --study {params.study} --format all --derived {input.derived}"
            " --crosstabs {input.crosstabs} --tests {input.tests} --models {input.models}"
            " --cross-validation {input.cross_validation} {params.reproduction} --out {output} --invalidate"

    rule:
        # apart from the tables, so that both run at once: the figures need only the models' results
        name:
            f"export_figures_{_name}"
        input:
            codebook=f"data/coded/{_name}/codebook.yaml",
            crosstabs=result("models", "crosstabs").format(study=_name),
            models=result("models", "models").format(study=_name),
        output:
            publication_outputs(_name, "figures", "../report/figures.rst", ".png"),
        params:
            study=_name,
            plan=plan_part(_name, "figures"),
        priority: PRIORITY["figures"]
        log:
            f"logs/export_figures/{_name}.log",
        conda:
            "../envs/casemeta.yaml"
        shell:
            "casemeta --log {log} figures --study {params.study} --crosstabs {input.crosstabs}"
            " --models {input.models} --out {output} --invalidate"
