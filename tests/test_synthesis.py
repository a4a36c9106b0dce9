"""The synthesis across studies: concepts, the synthesis plan, and the workflow writing results/synthesis/."""

import subprocess

import numpy as np
import pandas as pd
import pytest

from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.study import RESULTS, discover_studies, get_study
from casemeta.synthesis import load_concepts, load_synthesis


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_concepts_and_plan_fit_the_codebooks(root):
    synthesis = load_synthesis(root)
    assert set(synthesis.codebooks) == {"african_clusters", "pipkin_fuentes"}
    assert set(load_concepts(root)) >= {c for pair in synthesis.pairs for c in pair}
    # mapped only where the definitions match: the review codes no end market, joint action or support
    assert set(synthesis.codebooks["pipkin_fuentes"].concepts()) == {"upgrading"}
    assert synthesis.codebooks["african_clusters"].concepts()["upgrading"].name == "upgrading"


def test_the_synthesis_plan_is_never_a_study(project):
    assert "synthesis" not in discover_studies(project)
    # not even with a codebook folder of that name
    (project / "data" / "coded" / "synthesis").mkdir()
    (project / "data" / "coded" / "pipkin_fuentes" / "codebook.yaml").replace(project / "data" / "coded" / "synthesis" / "codebook.yaml")
    assert "synthesis" not in discover_studies(project)
    with pytest.raises(CasemetaError, match="'synthesis' is not a study"):
        get_study(project, "synthesis")


def test_an_unknown_concept_in_the_plan_names_the_closest(project):
    _edit(project / "analysis" / "synthesis.yaml", "{condition: joint_action, outcome: upgrading}",
          "{condition: joint_actoin, outcome: upgrading}")
    with pytest.raises(CasemetaError) as err:
        load_synthesis(project)
    assert "at pairs/2/condition: unknown concept 'joint_actoin'; did you mean joint_action?" in err.value.problems


def test_the_plan_follows_its_own_schema(project):
    _edit(project / "analysis" / "synthesis.yaml", "diamonds: [mantel_haenszel,", "diamonds: [mantel_hanszel,")
    with pytest.raises(CasemetaError, match="does not follow the synthesis schema"):
        load_synthesis(project)


def test_a_codebook_concept_must_be_defined_and_binary(project):
    book = project / "data" / "coded" / "pipkin_fuentes" / "codebook.yaml"
    _edit(book, "    concept: upgrading\n", "    concept: upgradng\n")
    with pytest.raises(CasemetaError) as err:
        load_synthesis(project)
    assert any("variable 'any_upgrading': unknown concept 'upgradng'; did you mean upgrading?" in p for p in err.value.problems)
    _edit(book, "    concept: upgradng\n", "    concept: upgrading\n")
    _edit(book, "    rule: {kind: count_of, of: [upgrading_process,", "    concept: joint_action\n    rule: {kind: count_of, of: [upgrading_process,")
    with pytest.raises(CasemetaError, match="the codebook contradicts itself") as err:
        load_synthesis(project)
    assert any("n_upgrading_types: declares concept 'joint_action' but has type integer" in p for p in err.value.problems)


def test_pool_command_writes_the_issue_columns(tmp_path, capsys):
    data = tmp_path / "strata.csv"
    data.write_text("site,x,y\np,1,1\np,1,0\np,0,0\np,0,1\np,1,1\nq,1,1\nq,0,0\nq,1,0\nq,0,0\nq,,1\n", encoding="utf-8")
    out = tmp_path / "pooled.csv"
    assert main(["pool", str(data), "--stratum", "site", "--condition", "x", "--outcome", "y", "--out", str(out)]) == 0
    pooled = pd.read_csv(out)
    assert list(pooled.columns) == ["method", "log_or", "std_error", "ci_low", "ci_high", "odds_ratio", "or_ci_low",
                                    "or_ci_high", "statistic", "df", "p_value", "tau2", "i2", "q", "q_p_value", "note"]
    assert list(pooled["method"]) == ["mantel_haenszel", "peto", "fixed", "random_dl", "random_reml",
                                      "exact_conditional", "cmh_test", "tarone_test"]
    # by hand: p = [[2, 1], [1, 1]] (n 5), q = [[1, 1], [0, 2]] (n 4; the blank case left out):
    # MH = (2·1/5 + 1·2/4) / (1·1/5 + 1·0/4) = 0.9 / 0.2
    assert pooled.loc[0, "odds_ratio"] == pytest.approx(4.5)
    bad = tmp_path / "bad.csv"
    bad.write_text("site,x,y\np,1,2\n", encoding="utf-8")
    assert main(["pool", str(bad), "--stratum", "site", "--condition", "x", "--outcome", "y", "--out", str(out)]) == 1
    assert "bad.csv, line 2, column y: '2' is not 0 or 1 (or blank when missing)" in capsys.readouterr().err
    # the line is the file's own: a quoted cell over two lines (2-3) and a blank line (4) come before the bad row
    bad.write_text('site,x,y,note\np,1,1,"two\nlines"\n\nq,1,0,\nq,0,2,\n', encoding="utf-8")
    assert main(["pool", str(bad), "--stratum", "site", "--condition", "x", "--outcome", "y", "--out", str(out)]) == 1
    assert "bad.csv, line 6, column y: '2' is not 0 or 1 (or blank when missing)" in capsys.readouterr().err
    counts = tmp_path / "counts.csv"
    counts.write_text("site,a,b,c,d\n\np,1,2,3,4\nq,1,2,x,4\n", encoding="utf-8")
    assert main(["pool", str(counts), "--stratum", "site", "--counts", "a,b,c,d", "--out", str(out)]) == 1
    assert "counts.csv, line 4, column c: 'x' is not a count (a whole number 0 or more)" in capsys.readouterr().err


def synthetic_pipkin_cases(n: int, seed: int) -> pd.DataFrame:
    """SYNTHETIC cases for the test only (seeded random codes, marked as such in every text field): no
    published codes of the Pipkin and Fuentes review exist."""
    rng = np.random.default_rng(seed)
    binary = lambda: rng.integers(0, 2, n).astype(str)  # noqa: E731
    return pd.DataFrame({
        "case_id": [f"synthetic_{i:02d}" for i in range(n)], "case_study": "SYNTHETIC test case, not a real study",
        "country": "Synthetia", "industry": "synthetic", "sector": rng.choice(["primary_product", "light_manufacturing"], n),
        "trigger_buyer_demand": binary(), "trigger_market_shock": binary(), "shock_source": "none", "trigger_other": binary(),
        "initiator": rng.choice(["domestic_firms", "state"], n), "learning_state_agency": binary(),
        "learning_business_association": binary(), "learning_buyers": binary(), "learning_other": binary(),
        "upgrading_outcome": rng.choice(["treadmilling", "intermediate", "leap_forward"], n), "institutional_capacity": "",
        "upgrading_process": binary(), "upgrading_product": binary(), "upgrading_functional": "0", "upgrading_chain": "0"})


@pytest.mark.workflow
def test_workflow_pools_a_pair_once_a_second_study_holds_cases(completed_copy):
    project = completed_copy  # a copy of the completed run: only pipkin_fuentes and the synthesis run again
    # With the shipped data no pair has 2 studies with cases: results/synthesis/ says so.
    # Here, in a temporary copy only, pipkin_fuentes gets SYNTHETIC cases, and its learning_state_agency
    # is declared to code government_support (the real codebook does not: its definition is narrower).
    cases = synthetic_pipkin_cases(30, seed=12)
    cases.to_csv(project / "data" / "coded" / "pipkin_fuentes" / "cases.csv", index=False)
    _edit(project / "data" / "coded" / "pipkin_fuentes" / "codebook.yaml",
          "    description: State agencies were a source of learning during upgrading.\n",
          "    description: State agencies were a source of learning during upgrading.\n"
          "    concept: government_support  # SYNTHETIC test mapping\n")
    run = subprocess.run(["snakemake", "--cores", "2", RESULTS["synthesis"]["pooled"], RESULTS["synthesis"]["forest"]],
                         cwd=project, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    studies = pd.read_csv(project / RESULTS["synthesis"]["studies"])
    pooled = pd.read_csv(project / RESULTS["synthesis"]["pooled"])
    pair = pooled[(pooled["condition"] == "government_support") & (pooled["outcome"] == "upgrading")].set_index("method")
    assert pair.loc["mantel_haenszel", "studies"] == "african_clusters, pipkin_fuentes"
    assert (pair["k"] == 2).all()
    # the synthetic study's table, counted here from the generated codes
    x = cases["learning_state_agency"].astype(int)
    y = cases[["upgrading_process", "upgrading_product"]].astype(int).max(axis=1)
    mine = studies[(studies["condition"] == "government_support") & (studies["study"] == "pipkin_fuentes")].iloc[0]
    assert [mine.a, mine.b, mine.c, mine.d] == [((x == 1) & (y == 1)).sum(), ((x == 1) & (y == 0)).sum(),
                                                ((x == 0) & (y == 1)).sum(), ((x == 0) & (y == 0)).sum()]
    # Mantel–Haenszel by hand from the two studies' tables
    both = studies[(studies["condition"] == "government_support") & studies["n"].notna()]
    n = both[["a", "b", "c", "d"]].sum(axis=1)
    expected = (both["a"] * both["d"] / n).sum() / (both["b"] * both["c"] / n).sum()
    assert pair.loc["mantel_haenszel", "odds_ratio"] == pytest.approx(expected)
    for method in ("peto", "fixed", "random_dl", "random_reml", "exact_conditional", "cmh_test", "tarone_test"):
        assert np.isfinite(pair.loc[method, "p_value"]), method
    # its sensitivity: 2 studies, so each left out leaves the other's own table (its log odds ratio, no Q)
    loo = pd.read_csv(project / RESULTS["synthesis"]["leave1out"])
    loo = loo[loo["condition"] == "government_support"].set_index(["method", "left_out"])
    assert set(loo.index.get_level_values("left_out")) == {"african_clusters", "pipkin_fuentes"}
    alone = mine.odds_ratio if mine.interval.startswith("Woolf") else None
    if alone is not None:
        assert np.exp(loo.loc[("fixed", "african_clusters"), "estimate"]) == pytest.approx(alone)
    influence = pd.read_csv(project / RESULTS["synthesis"]["influence"])
    assert set(influence["condition"]) == {"government_support"}
    assert set(influence["method"]) == {"fixed", "random_dl", "random_reml"}
    summary = (project / RESULTS["synthesis"]["summary"]).read_text(encoding="utf-8")
    assert "influential studies (Viechtbauer and Cheung 2010):" in summary
    # the other pairs still say why they are not pooled
    other = pooled[pooled["condition"] == "joint_action"]
    assert other["note"].str.startswith("not pooled: fewer than 2 studies hold cases for this pair").all()
    assert "not coding both concepts: pipkin_fuentes" in other["note"].iloc[0]
    assert (project / RESULTS["synthesis"]["forest"]).stat().st_size > 0
    assert (project / "results" / "synthesis" / "tables" / "pooled_government_support__upgrading.html").is_file()


@pytest.mark.workflow
def test_workflow_with_todays_data_names_the_pairs_not_pooled(completed_run):
    # the shared full run of the shipped project (conftest.completed_run) wrote the synthesis too
    summary = (completed_run / RESULTS["synthesis"]["summary"]).read_text(encoding="utf-8")
    for label in ("Institutional support → Upgrading", "Government support → Upgrading", "Joint action → Upgrading",
                  "Sells internationally → Upgrading"):
        assert f"- {label}: not pooled: fewer than 2 studies hold cases for this pair" in summary


def test_synthesis_tables_name_the_studies_by_their_titles(root):
    """Issue 20: the synthesis tables listed study ids (african_clusters), not the studies' titles."""
    from casemeta.coded.case_table import load_cases
    from casemeta.coded.derive import derive
    from casemeta.publish.synthesis_tables import synthesis_tables
    from casemeta.stats.synthesis_tables import pooled_results, study_tables
    from casemeta.study import Study

    synthesis = load_synthesis(root)
    frames = {}
    for name, book in synthesis.codebooks.items():
        frames[name] = derive(load_cases(Study(root, name).cases_path, book), book)
    coded = {name: {c: v.name for c, v in book.concepts().items()} for name, book in synthesis.codebooks.items()}
    table = study_tables(synthesis.pairs, coded, frames, synthesis.level, {name: name for name in frames})
    overview, *pairs = synthesis_tables(synthesis, table, pooled_results(table, synthesis.level))
    held = set(overview.frame["Studies with cases"])
    assert "Twenty-five African industrial clusters" in held and not any("african_clusters" in h for h in held)
    first = pairs[0].frame.iloc[:, 0].tolist()
    assert first[:2] == ["Twenty-five African industrial clusters", "GVC upgrading cases (Pipkin and Fuentes)"]


def test_a_hand_mistake_keeps_the_synthesis_and_a_broken_plan_removes_it(project, capsys):
    """A study named by hand that does not exist, or --out files the plan does not give, change nothing (a review
    found the synthesis gone after either); a synthesis plan that fails leaves no table of the pairs it named."""
    earlier = project / "results" / "synthesis" / "tables" / "pooled_joint_action__upgrading.csv"  # SYNTHETIC
    earlier.parent.mkdir(parents=True)
    earlier.write_text("as an earlier synthesis wrote it\n")
    assert main(["--root", str(project), "synthesize", "--studies", "no_such_study"]) == 1
    assert main(["--root", str(project), "synthesize", "--out", str(project / "results" / "synthesis" / "x.csv")]) == 1
    assert earlier.is_file()
    plan = project / "analysis" / "synthesis.yaml"
    plan.write_text(plan.read_text().replace("condition: joint_action", "condition: joint_actions"))  # unknown concept
    assert main(["--root", str(project), "synthesize"]) == 1
    assert "joint_actions" in capsys.readouterr().err
    assert not earlier.exists() and not earlier.parent.exists()
