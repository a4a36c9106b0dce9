# Stage 6: synthesis across studies. Each (condition, outcome) pair of concepts in
# analysis/synthesis.yaml is tabulated in every study that codes both (codebook `concept:`,
# data/concepts.yaml) and pooled where at least 2 studies hold cases.


rule synthesize:
    input:
        plan=f"analysis/{SYNTHESIS}.yaml",
        concepts="data/concepts.yaml",
        codebooks=expand("data/coded/{study}/codebook.yaml", study=synthesis_studies()),
        derived=expand(result("derive", "derived"), study=synthesis_studies()),
    output:
        studies=report(
            result("synthesis", "studies"),
            caption="../report/synthesis_studies.rst",
            category="Synthesis",
        ),
        pooled=report(
            result("synthesis", "pooled"),
            caption="../report/synthesis_pooled.rst",
            category="Synthesis",
        ),
        summary=result("synthesis", "summary"),
        tables=report(
            directory(result("synthesis", "tables")),
            patterns=["{name}.html"],
            caption="../report/synthesis_tables.rst",
            category="Synthesis",
        ),
        latex=result("synthesis", "latex"),
        docx=result("synthesis", "docx"),
        xlsx=result("synthesis", "xlsx"),
        forest=report(
            result("synthesis", "forest"),
            caption="../report/synthesis_forest.rst",
            category="Synthesis",
        ),
        forest_pdf=result("synthesis", "forest_pdf"),
    params:
        studies=",".join(synthesis_studies()),
        results=lambda wildcards, output: str(Path(output.pooled).parent.parent),
        out_dir=lambda wildcards, output: str(Path(output.pooled).parent),
    priority: 1  # a long job that waits only on derive and that nothing waits on: started early, not left alone at the end
    log:
        "logs/synthesize/synthesis.log",
    conda:
        "../envs/casemeta.yaml"
    shell:
        "casemeta --log {log} synthesize --results {params.results} --out-dir {params.out_dir}"
        " --studies {params.studies:q}"
