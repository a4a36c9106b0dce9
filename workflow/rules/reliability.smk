# Double coding: agreement between coders whose files sit in data/coded/<study>/coders/.


rule coder_reliability:
    input:
        coders=lambda wildcards: coder_files(wildcards.study),
    output:
        reliability=report(
            result("reliability", "reliability"),
            caption="../report/reliability.rst",
            category="Reliability",
            subcategory="{study}",
        ),
        disagreements=result("reliability", "disagreements"),
    log:
        "logs/coder_reliability/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} reliability {input.coders} --study {wildcards.study} --out {output.reliability}"
        " --disagreements {output.disagreements}"


rule forget_reliability:
    # requested only when a study's agreement results exist but its coders' files do not
    output:
        temp(result("forget_reliability", "forget")),
    log:
        "logs/forget_reliability/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} clear --study {wildcards.study} reliability && touch {output}"
