"""Derived variables, checked against Table 1 by hand."""

import pytest

from casemeta.coded.case_table import load_cases
from casemeta.coded.derive import derive


@pytest.fixture
def derived(clusters):
    codebook = clusters.codebook()
    return derive(load_cases(clusters.cases_path, codebook), codebook).set_index("case_id")


def test_market_orientation_follows_table_2s_groups(derived):
    groups = derived["market_orientation"].value_counts().to_dict()
    # Table 2's "Number of Clusters" column: 7, 6, 4, 5, 3
    assert groups == {"local_only": 7, "domestic": 6, "domestic_regional": 4, "domestic_international": 5, "international_only": 3}


@pytest.mark.parametrize(
    "case, group",
    [
        ("south_africa_cape_clothing_textile", "domestic"),  # "National" alone is domestic
        ("nigeria_otigba_computer_hardware", "domestic_international"),  # National, Regional, International
        ("ghana_suame_vehicle_repair", "domestic_regional"),
        ("kenya_lake_naivasha_cut_flower", "international_only"),
    ],
)
def test_market_orientation_of_single_clusters(derived, case, group):
    assert derived.at[case, "market_orientation"] == group


def test_every_cluster_selling_internationally_is_dynamic(derived):
    international = derived[derived["sells_internationally"] == 1]
    assert len(international) == 8
    assert international["dynamic"].eq(1).all()


def test_counts_of_external_economies_and_joint_actions(derived):
    assert derived["n_external_economies"].value_counts().to_dict() == {4: 12, 3: 8, 2: 5}
    assert derived.at["uganda_fish_processing", "n_joint_actions"] == 2
    assert derived.at["kenya_gikomba_furniture", "n_joint_actions"] == 0


def test_support_combination(derived):
    assert derived.at["kenya_ngong_furniture", "support_combination"] == "none"
    assert derived.at["south_africa_south_african_wine", "support_combination"] == "support_government+support_external"
    assert (derived["support_combination"] == "none").sum() == 3


def test_a_missing_input_gives_a_missing_derived_value(clusters):
    codebook = clusters.codebook()
    cases = load_cases(clusters.cases_path, codebook).head(2).copy()
    cases.loc[0, "growth"] = None
    out = derive(cases, codebook)
    assert out.loc[0, "dynamic"] is not None and str(out.loc[0, "dynamic"]) == "<NA>"
    assert out.loc[1, "dynamic"] == 1


def test_a_derived_count_outside_its_declared_range_is_refused_naming_the_codebook(clusters):
    """`n_joint_actions` declared with minimum 1: the clusters with no joint action give 0, which every later
    step would refuse; derive refuses it first and says which codebook entry is at fault."""
    import dataclasses

    from casemeta.errors import CasemetaError

    codebook = clusters.codebook()
    derived = tuple(dataclasses.replace(v, minimum=1) if v.name == "n_joint_actions" else v for v in codebook.derived)
    strict = dataclasses.replace(codebook, derived=derived)
    with pytest.raises(CasemetaError) as err:
        derive(load_cases(clusters.cases_path, codebook), strict)
    assert str(err.value).startswith(f"{codebook.path}: derived 'n_joint_actions' gives values outside its `minimum`/`maximum`")
    assert "case 'egypt_dormiatt_furniture_domestic': 0; expected a whole number >= 1 of at most 18 digits" in err.value.problems


def test_derive_leaves_the_cases_it_was_given_as_they_were(clusters):
    """derive works on a shallow copy: the caller's frame keeps its columns and values, also when the derived
    frame is changed afterwards."""
    codebook = clusters.codebook()
    cases = load_cases(clusters.cases_path, codebook)
    before = cases.copy()
    out = derive(cases, codebook)
    assert list(cases.columns) == list(before.columns) and cases.equals(before)
    assert len(out.columns) == len(cases.columns) + len(codebook.derived)
    out.loc[0, "growth"] = 1 - out.loc[0, "growth"]
    out.iloc[:, 0] = "changed"
    assert cases.equals(before)


def test_a_binary_first_match_is_typed_as_the_steps_read_it_in_the_main_run_and_in_a_universe(clusters):
    """A binary variable derived by first_match (here `dynamic`, by hand: growth, else upgrading) is Int64 after
    derive, as read_typed reads the derived file back in the main run; a multiverse's universe, derived in memory,
    has the same column, so a model takes it as one numeric predictor (`dynamic`), not one indicator per level
    (`dynamic[1]`) as it did before."""
    from casemeta.coded.universes import universe_frame, with_rules
    from casemeta.stats.formula import design_frame

    codebook = clusters.codebook()
    cases = load_cases(clusters.cases_path, codebook)
    rule = {"kind": "first_match", "cases": [{"when": "growth == 1", "value": 1}, {"when": "upgrading == 1", "value": 1},
                                             {"when": "growth == 0 and upgrading == 0", "value": 0}]}
    main = derive(cases, with_rules(codebook, {"dynamic": rule}))
    universe = universe_frame(cases, codebook, {"dynamic": rule}, {}, (), "test")
    for frame in (main, universe):
        assert str(frame["dynamic"].dtype) == "Int64"
        # the same values as the shipped any_of rule over growth and upgrading, by hand
        assert frame["dynamic"].tolist() == [1 if g == 1 or u == 1 else 0 for g, u in zip(cases["growth"], cases["upgrading"])]
        _, design = design_frame(frame, "sells_internationally ~ dynamic")
        assert list(design.columns) == ["Intercept", "dynamic"]


def test_a_first_match_integer_that_is_no_whole_number_is_refused_by_name(clusters):
    from casemeta.coded.universes import with_rules
    from casemeta.errors import CasemetaError

    codebook = clusters.codebook()
    cases = load_cases(clusters.cases_path, codebook)
    rule = {"kind": "first_match", "cases": [{"when": "growth == 1", "value": 2.5}, {"when": "growth == 0", "value": 0}]}
    with pytest.raises(CasemetaError, match=r"derived 'n_joint_actions' \(integer\) gives values that are not whole numbers: 2.5"):
        derive(cases, with_rules(codebook, {"n_joint_actions": rule}))
