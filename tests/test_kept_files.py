"""A warm process reads the project's codebooks and plans once (casemeta.study.keep_studies); a job forked from it
uses what it made only for files of exactly the same bytes, and a plan only with the very codebook it was checked
against."""

import os
from dataclasses import replace

import pytest

from casemeta.coded import yaml_files
from casemeta.errors import CasemetaError
from casemeta.plan import load_plan
from casemeta.study import Study, keep_studies


@pytest.fixture
def kept(monkeypatch):
    monkeypatch.setattr(yaml_files, "_KEPT", {})
    return yaml_files._KEPT


def test_kept_codebooks_and_plans_serve_only_the_same_bytes_and_codebook(project, kept):
    study = Study(project, "african_clusters")
    keep_studies(project)
    assert {key[0] for key in kept} == {"codebook", "plan"} and len(kept) == 4  # both shipped studies
    codebook = study.codebook()
    assert study.codebook() is codebook  # as the warm process made it
    plan = load_plan(study.plan_path, codebook)
    assert load_plan(study.plan_path, codebook) is plan
    # a codebook changed in memory keeps its path: the plan is checked against it again (and no longer fits it)
    changed = replace(codebook, derived=codebook.derived[:-1])
    with pytest.raises(CasemetaError, match="unknown variable 'support_combination'"):
        load_plan(study.plan_path, changed)
    # a file edited since: read again, and what it now says
    text, stamp = study.codebook_path.read_text(encoding="utf-8"), study.codebook_path.stat().st_mtime_ns
    study.codebook_path.write_text(text.replace("title: ", "title: Edited ", 1), encoding="utf-8")
    edited = study.codebook()
    assert edited is not codebook and edited.title.startswith("Edited ")
    assert load_plan(study.plan_path, edited) is not plan
    study.codebook_path.write_text(text, encoding="utf-8")  # the same bytes, written again: read again
    again = study.codebook()
    assert again is not codebook and again == codebook
    os.utime(study.codebook_path, ns=(stamp, stamp))  # the very file that was kept: what was kept
    assert study.codebook() is codebook
    # the same file by another path: read on its own (the object holds the path it was read by)
    other = Study(project / "analysis" / "..", "african_clusters")
    assert other.codebook() is not codebook and other.codebook().path == other.codebook_path


def test_outside_a_warm_process_nothing_is_kept(project, kept):
    study = Study(project, "african_clusters")
    first = study.codebook()
    assert study.codebook() is not first and study.codebook() == first
    assert load_plan(study.plan_path, first) is not load_plan(study.plan_path, first)
    assert kept == {}


def test_a_file_changed_while_it_is_read_is_not_kept(project, kept, monkeypatch):
    from casemeta.coded import codebook as codebook_module

    study = Study(project, "african_clusters")
    read = codebook_module._read_codebook

    def edited_meanwhile(path):
        made = read(path)
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        return made

    monkeypatch.setattr(codebook_module, "_read_codebook", edited_meanwhile)
    with yaml_files.keeping():
        study.codebook()
    assert not any(key[0] == "codebook" for key in kept)


def test_a_broken_study_is_left_to_its_jobs(project, kept):
    (project / "analysis" / "african_clusters.yaml").write_text("models: [", encoding="utf-8")
    keep_studies(project)
    assert [key[0] for key in kept if "african_clusters" in key[1]] == ["codebook"]
