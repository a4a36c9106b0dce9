# Robustness: case influence. Each model and cross-tab test of a study's plan refitted without each case in
# turn, for the studies whose plan says `robustness: {case_influence: true}`: the influential cases
# (CSV and a table in every format) and a sentence per finding under results/<study>/robustness/.
# Made per study: the rule exists only where the plan asks for it (casemeta.study lists the files).


for _name in CHECKED:
    if not influence_runs(_name):
        continue

    rule:
        name:
            f"case_influence_{_name}"
        input:
            codebook=f"data/coded/{_name}/codebook.yaml",
            derived=result("derive", "derived").format(study=_name),
        output:
            [report(p, caption="../report/case_influence.rst", category="Robustness", subcategory=_name)
             if p.endswith("case_influence.md") else p for p in step_files(_name, "case_influence")],
        params:
            study=_name,
            plan=plan_part(_name, "case_influence"),
            # the models step's: a Monte Carlo test without a case is the one the main run would compute
            draws=config.get("monte_carlo_draws", 100000),
            seed=config.get("seed", 20150827),
            model_display=publication_option(_name, "model_display"),
        priority: PRIORITY["case_influence"]
        log:
            f"logs/case_influence/{_name}.log",
        conda:
            "../envs/casemeta.yaml"
        shell:
            "casemeta --log {log} case-influence --study {params.study} --derived {input.derived}"
            " --draws {params.draws} --seed {params.seed} --out {output} --invalidate"
