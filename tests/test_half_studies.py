"""What looks meant as a study but is none is said when the workflow is read, not passed over in silence."""

from casemeta.study import half_studies

from conftest import snakemake


def test_each_kind_of_half_study_is_named(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "data" / "coded" / "whole").mkdir(parents=True)
    (tmp_path / "data" / "coded" / "whole" / "codebook.yaml").write_text("variables: []\n")
    (tmp_path / "analysis" / "whole.yaml").write_text("study: whole\n")  # a study: nothing said of it
    (tmp_path / "analysis" / "synthesis.yaml").write_text("pairs: []\n")  # the synthesis plan: no study, none missing
    (tmp_path / "analysis" / "misnamed.yml").write_text("study: misnamed\n")
    (tmp_path / "analysis" / "planned.yaml").write_text("study: planned\n")  # no codebook
    (tmp_path / "data" / "coded" / "coded_only").mkdir()  # no plan
    for name in ("whole", "synthesis", "gone", ".a_tools_own"):
        (tmp_path / "results" / name).mkdir(parents=True)
    (tmp_path / "data" / "coded" / ".ipynb_checkpoints").mkdir()  # a tool's: not said
    assert half_studies(tmp_path) == [
        "analysis/misnamed.yml: not read (a plan's name ends in .yaml: analysis/misnamed.yaml)",
        "analysis/planned.yaml: no codebook data/coded/planned/codebook.yaml, so planned is no study yet",
        "data/coded/coded_only/: no plan analysis/coded_only.yaml, so coded_only is no study yet",
        "results/gone/: of no study of this project (results of an earlier run, left as they are)"]
    assert half_studies(tmp_path / "empty") == []


def test_the_workflow_says_so_when_it_is_read(project):
    (project / "analysis" / "pipkin_fuentes.yaml").rename(project / "analysis" / "pipkin_fuentes.yml")
    run = snakemake(project, "-n")
    said = run.stdout + run.stderr
    assert run.returncode == 0, said[-2000:]
    assert "not a study: analysis/pipkin_fuentes.yml: not read (a plan's name ends in .yaml" in said
    assert "not a study: data/coded/pipkin_fuentes/: no plan analysis/pipkin_fuentes.yaml" in said


def test_the_synthesis_and_a_file_systems_own_folder_are_said_as_what_they_are(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "notes.yml").write_text("a note\n")
    (tmp_path / "analysis" / "notes.yaml").write_text("study: notes\n")  # the .yml beside it is something else: not said
    (tmp_path / "data" / "coded" / "notes").mkdir(parents=True)
    (tmp_path / "data" / "coded" / "notes" / "codebook.yaml").write_text("variables: []\n")
    (tmp_path / "data" / "coded" / "synthesis").mkdir()
    for name in ("synthesis", "lost+found"):
        (tmp_path / "results" / name).mkdir(parents=True)
    assert half_studies(tmp_path) == [
        "data/coded/synthesis/: 'synthesis' names the synthesis across studies (analysis/synthesis.yaml), never a study",
        "results/synthesis/: no synthesis plan analysis/synthesis.yaml (results of an earlier run, left as they are)"]
