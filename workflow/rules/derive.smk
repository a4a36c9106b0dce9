# Stage 2: derived variables (market orientation, dynamism, counts, combinations).


rule derive_variables:
    input:
        unpack(study_inputs),
        cases="results/{study}/validated_cases.csv",
    output:
        derived="results/{study}/derived_cases.csv",
    log:
        "logs/derive_variables/{study}.log",
    conda:
        "../../environment.yml"
    shell:
        "casemeta --log {log} derive --study {wildcards.study}"
        " --cases {input.cases} --out {output.derived}"
