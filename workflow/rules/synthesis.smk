# Stage 6: synthesis across studies. Each (condition, outcome) pair of concepts in
# analysis/synthesis.yaml is tabulated in every study that codes both (codebook `concept:`,
# data/concepts.yaml) and pooled where at least 2 studies hold cases. Its tables follow the
# pairs (casemeta.study.synthesis_files lists every file).


if synthesis_runs():  # never with only some studies configured: it would rewrite the synthesis with fewer

    rule synthesize:
        input:
            plan=f"analysis/{SYNTHESIS}.yaml",
            concepts="data/concepts.yaml",
            codebooks=expand("data/coded/{study}/codebook.yaml", study=synthesis_studies()),
            derived=expand(result("derive", "derived"), study=synthesis_studies()),
        output:
            **synthesis_outputs(),
        params:
            studies=",".join(synthesis_studies()),
        priority: PRIORITY["synthesize"]
        log:
            "logs/synthesize/synthesis.log",
        conda:
            "../envs/casemeta.yaml"
        shell:
            "casemeta --log {log} synthesize --studies {params.studies:q} --derived {input.derived} --out {output}"
