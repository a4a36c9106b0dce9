# Double coding: agreement between coders whose files sit in data/coded/<study>/coders/.


rule coder_reliability:
    input:
        coders=lambda wildcards: coder_files(wildcards.study),
    output:
        reliability=report(
            "results/{study}/reliability.csv",
            caption="../report/reliability.rst",
            category="Reliability",
            subcategory="{study}",
        ),
        disagreements="results/{study}/reliability_disagreements.csv",
    log:
        "logs/coder_reliability/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} reliability {input.coders} --out {output.reliability}"
        " --disagreements {output.disagreements}"
