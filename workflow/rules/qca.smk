# Stage 4b: configurational analysis (QCA) of each study's plan: truth table,
# conservative, parsimonious and intermediate solutions, necessity; tables in
# every format and XY plots under results/<study>/qca/<name>/, an account in qca.md;
# where a QCA's plan entry has `robustness:`, its ranges, test sets, case types,
# leave-one-case-out and robustness plot beside them (stats/qca/robustness.py).
# Made per study: the files follow the plan's QCAs (casemeta.study lists them).


for _name in CHECKED:

    rule:
        name:
            f"qca_{_name}"
        input:
            codebook=f"data/coded/{_name}/codebook.yaml",
            derived=result("derive", "derived").format(study=_name),
        output:
            [report(p, caption="../report/qca.rst", category="QCA", subcategory=_name) if p.endswith("qca.md") else p
             for p in step_files(_name, "qca")],
        params:
            study=_name,
            plan=plan_part(_name, "qca"),
            # the one display option the QCA tables follow (how many cases a cell lists)
            case_listing_limit=publication_option(_name, "case_listing_limit"),
        priority: PRIORITY["qca"]
        log:
            f"logs/qca/{_name}.log",
        conda:
            "../envs/casemeta.yaml"
        shell:
            "casemeta --log {log} qca-study --study {params.study} --derived {input.derived} --out {output} --invalidate"
