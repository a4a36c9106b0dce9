# Stage 4: exact tests of every cross-tab, logistic models (Firth where cases
# separate) and leave-one-out checks, as named in analysis/<study>.yaml.


rule fit_models:
    input:
        unpack(study_inputs),
        derived="results/{study}/derived_cases.csv",
    output:
        crosstabs="results/{study}/models/crosstabs.csv",
        tests=report(
            "results/{study}/models/crosstab_tests.csv",
            caption="../report/crosstab_tests.rst",
            category="Models",
            subcategory="{study}",
        ),
        models=report(
            "results/{study}/models/logistic_models.csv",
            caption="../report/logistic_models.rst",
            category="Models",
            subcategory="{study}",
        ),
        cross_validation=report(
            "results/{study}/models/cross_validation.csv",
            caption="../report/cross_validation.rst",
            category="Models",
            subcategory="{study}",
        ),
    params:
        draws=config.get("monte_carlo_draws", 100000),
        seed=config.get("seed", 20150827),
    log:
        "logs/fit_models/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} models --study {wildcards.study} --derived {input.derived}"
        " --out-dir results/{wildcards.study}/models --draws {params.draws} --seed {params.seed}"
