"""Each cross-tab of the plan, in the paper's layout, with counts worked out from Table 1 by hand."""

import pytest

from casemeta.coded.case_table import load_cases
from casemeta.stats.count_tables import count_table
from casemeta.coded.derive import derive
from casemeta.plan import load_plan


@pytest.fixture
def tables(clusters):
    codebook = clusters.codebook()
    frame = derive(load_cases(clusters.cases_path, codebook), codebook)
    specs = load_plan(clusters.plan_path, clusters.codebook()).reproduce.tables
    return {s["table"]: count_table(frame, s, codebook) for s in specs}


def test_table_2_market_orientation_by_dynamism(tables):
    t = tables["Table 2"]
    assert list(t.columns) == ["Growth", "Upgrading", "Growth & Upgrading", "Number of Clusters"]
    assert t.loc["Local only"].tolist() == [1, 2, 0, 7]
    # Suame Vehicle Repair (none), Nnewi (G+U), Mwenge (G), Keko (G)
    assert t.loc["Domestic and Regional"].tolist() == [3, 1, 1, 4]
    assert t.loc["International only"].tolist() == [3, 3, 3, 3]


def test_table_3_external_economies(tables):
    t = tables["Table 3"]["Number of Clusters"]
    assert t.to_dict() == {
        "Availability of Labour Supply": 18, "Availability of Suppliers": 23, "Customer Attraction": 22,
        "Inter-firm specialization": 19, "2 External Economies": 5, "3 External Economies": 8,
        "All 4 External Economies": 12,
    }


def test_table_4_joint_action_by_dynamism(tables):
    t = tables["Table 4"]
    # Logistics: Dormiatt (Export), Merkato, Kibuye, Lake Victoria, Lake Naivasha, Otigba, Nnewi,
    # Mauritius, Cape, KZN, Durban, Uganda Fish = 12 clusters, 10 of them growing and upgrading
    assert t.loc["Logistics"].tolist() == [10, 10, 10, 12]
    # one joint action: Merkato, Suame Vehicle, Kibuye (none dynamic), Ziwani (U), Nnewi (G+U)
    assert t.loc["1 Collective Activity"].tolist() == [1, 2, 1, 5]


def test_table_5_support_combinations_in_codebook_order(tables):
    t = tables["Table 5"]["Number of Clusters"]
    assert t.index[0] == "No institutional support"
    assert t.to_dict() == {
        "No institutional support": 3, "Only Government": 1, "Only Cluster/sectoral": 4, "Only External": 2,
        "Government & Cluster/sectoral": 3, "Government & External": 1, "Cluster/sectoral & External": 2,
        "Government, Cluster/sectoral, External": 9,
    }
