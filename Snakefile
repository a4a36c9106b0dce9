# casemeta workflow: coded cases -> validation -> derived variables ->
# cross-tabs, exact tests, models -> publication tables and reports.
# Every rule is a thin call of the `casemeta` command line (the installed
# package holds all logic); studies are found in analysis/ and data/coded/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"



include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/derive.smk"
include: "workflow/rules/reproduce.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/qca.smk"
include: "workflow/rules/case_influence.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/publication.smk"
include: "workflow/rules/reliability.smk"
include: "workflow/rules/synthesis.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
