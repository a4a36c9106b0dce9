# Stage 5: publication tables (CSV, Markdown, LaTeX, HTML, Word, Excel) and figures.


rule export_publication:
    input:
        unpack(study_inputs),
        derived="results/{study}/derived_cases.csv",
        models="results/{study}/models/logistic_models.csv",
        reproduction=reproduction_input,
    output:
        tables=report(
            directory("results/{study}/tables"),
            patterns=["{name}.html"],
            caption="../report/tables.rst",
            category="Tables",
            subcategory="{study}",
        ),
        latex="results/{study}/tables.tex",
        summary=report(
            "results/{study}/summary.md",
            caption="../report/summary.rst",
            category="Tables",
            subcategory="{study}",
        ),
        docx=report(
            "results/{study}/{study}_tables.docx",
            caption="../report/docx.rst",
            category="Tables",
            subcategory="{study}",
        ),
        xlsx=report(
            "results/{study}/{study}_tables.xlsx",
            caption="../report/xlsx.rst",
            category="Tables",
            subcategory="{study}",
        ),
        figures=report(
            directory("results/{study}/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
            subcategory="{study}",
        ),
    log:
        "logs/export_publication/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} export --study {wildcards.study} --format all --figures --results results"
