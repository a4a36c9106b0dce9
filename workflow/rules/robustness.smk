# Stage 4c: the multiverse of each study's `robustness:` decisions (README "Robustness"). Every combination of
# options is a universe, re-derived from the validated cases and re-analysed by the main run's tests and
# models. The universes are split into the plan's `chunks` jobs, each running many universes in one process,
# and one gather job merges them: 10,000 universes are tens of jobs. Made per study, and only for a study
# whose plan has the section (a study without it gets no job here).


for _name in CHECKED:
    if robustness_plan(_name) is None:
        continue
    _chunks = robustness_plan(_name).chunks

    for _i in range(1, _chunks + 1):

        rule:
            name:
                f"robustness_{_name}_chunk_{_i}"
            input:
                **checked_cases_of(_name),
                codebook=f"data/coded/{_name}/codebook.yaml",
            output:
                chunk_files(_name, _i),
            params:
                study=_name,
                chunk=_i,
                chunks=_chunks,
                plan=plan_part(_name, "robustness"),
                draws=config.get("monte_carlo_draws", 100000),
                seed=config.get("seed", 20150827),
            priority: PRIORITY["robustness_chunk"]
            resources:
                runtime=60,  # minutes, for a cluster's scheduler
                mem_mb=2000,
            log:
                f"logs/robustness/{_name}_chunk_{_i}.log",
            conda:
                "../envs/casemeta.yaml"
            shell:
                "casemeta --log {log} robustness --study {params.study} --cases {input.cases}"
                " --chunk {params.chunk} --chunks {params.chunks} --draws {params.draws} --seed {params.seed}"
                " --out {output} --invalidate"

    rule:
        name:
            f"robustness_{_name}"
        input:
            codebook=f"data/coded/{_name}/codebook.yaml",
            chunks=[p for i in range(1, _chunks + 1) for p in chunk_files(_name, i)],
        output:
            [report(p, caption="../report/robustness.rst", category="Robustness", subcategory=_name)
             if p.endswith(("robustness.md", ".html")) else p for p in step_files(_name, "robustness")],
        params:
            study=_name,
            plan=plan_part(_name, "robustness"),
        priority: PRIORITY["robustness_gather"]
        log:
            f"logs/robustness/{_name}.log",
        conda:
            "../envs/casemeta.yaml"
        shell:
            "casemeta --log {log} robustness-gather --study {params.study} --chunk-files {input.chunks}"
            " --out {output} --invalidate"
