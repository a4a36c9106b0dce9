"""The scale benchmark's synthetic growth of a study keeps the real cases and makes unique ids."""

import pandas as pd

from conftest import ROOT, benchmark


def test_grown_cases_keep_the_real_rows_and_flip_about_a_tenth_of_binary_codes():
    bench = benchmark("scale_benchmark")
    real = pd.read_csv(ROOT / "data" / "coded" / "african_clusters" / "cases.csv")
    grown = bench.grown_cases(real, 2025)
    assert len(grown) == 2025 and grown["case_id"].is_unique
    pd.testing.assert_frame_equal(grown.iloc[:len(real)], real)
    # each resampled row started as a copy of a real row: compare with its source to count flips
    source = real.set_index("case_id").loc[grown["case_id"].iloc[len(real):].str.replace(r"_r\d+$", "", regex=True)]
    binary = [c for c in real.columns if set(real[c].dropna().unique()) <= {0, 1}]
    flipped = (source[binary].to_numpy() != grown[binary].iloc[len(real):].to_numpy()).mean()
    assert 0.09 < flipped < 0.11  # 10% flipped, 2000 × len(binary) draws


def test_cold_summary_states_the_floor_under_a_cold_run():
    bench = benchmark("scale_benchmark")
    text = bench.cold_summary([9.0, 11.0, 10.0], "ok", {"models a": 2.0, "figures a": 1.25, "derive a": 0.35}, 1.2)
    assert "3 runs: median 10.0 s (9.0, 11.0, 10.0 s); ok." in text
    assert "3.6 s in all (largest: models a 2.00, figures a 1.25, derive a 0.35 s)" in text
    assert "a cold run is bound to take about 1.2 + 3.6 / 2 = 3.0 s, however its jobs are ordered" in text  # 1.2 + 1.8, by hand
    assert bench.cold_summary([], "not run", {}, float("nan")) == "Cold run not measured."
