# Stage 4: exact tests of every cross-tab, logistic models (Firth where cases
# separate) and leave-one-out checks, as named in analysis/<study>.yaml.


rule fit_models:
    input:
        codebook="data/coded/{study}/codebook.yaml",
        derived=result("derive", "derived"),
    output:
        crosstabs=result("models", "crosstabs"),
        tests=report(
            result("models", "tests"),
            caption="../report/crosstab_tests.rst",
            category="Models",
            subcategory="{study}",
        ),
        models=report(
            result("models", "models"),
            caption="../report/logistic_models.rst",
            category="Models",
            subcategory="{study}",
        ),
        cross_validation=report(
            result("models", "cross_validation"),
            caption="../report/cross_validation.rst",
            category="Models",
            subcategory="{study}",
        ),
    params:
        plan=lambda wildcards: plan_part(wildcards.study, "models"),
        draws=config.get("monte_carlo_draws", 100000),
        seed=config.get("seed", 20150827),
    priority: PRIORITY["models"]
    log:
        "logs/fit_models/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} models --study {wildcards.study} --derived {input.derived}"
        " --crosstabs {output.crosstabs} --tests {output.tests} --models {output.models}"
        " --cross-validation {output.cross_validation} --draws {params.draws} --seed {params.seed} --invalidate"
