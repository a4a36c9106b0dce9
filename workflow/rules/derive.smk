# Stage 2: derived variables, as the `derived:` section of data/coded/<study>/codebook.yaml defines them.


rule derive_variables:
    input:
        unpack(checked_cases),
        codebook="data/coded/{study}/codebook.yaml",
    output:
        derived=result("derive", "derived"),
    priority: PRIORITY["derive"]
    log:
        "logs/derive_variables/{study}.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} derive --study {wildcards.study}"
        " --cases {input.cases} --out {output.derived} --invalidate"
