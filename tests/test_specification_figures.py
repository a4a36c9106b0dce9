"""The specification curve, drawn as specr's plot_specs: sorted estimates, colours by side of the null, option panels.

The specifications are SYNTHETIC (6 made-up universes, two decisions); the expected order and colours are
worked out by hand:

    universe  a  b  estimate  interval        side
    1         x  p   0.5      (-0.2, 1.2)     spans 0
    2         y  p  -1.0      (-1.8, -0.2)    below
    3         x  q   2.0      ( 0.5, 3.5)     above
    4         y  q   0.5      ( 0.1, 0.9)     above   (ties with 1: after it, the universes' order)
    5         x  r   blank    blank           not drawn
    6         y  r  -0.3      blank           spans (no interval: grey, as specr's case_when)

Sorted: 2 (-1.0), 6 (-0.3), 1 (0.5), 4 (0.5), 3 (2.0) -> red, grey, grey, blue, blue.
Options in the order the universes first take them: a = x, y; b = p, q, r.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba

from casemeta.errors import CasemetaError
from casemeta.publish.specification_figures import (ABOVE, BELOW, SPANS, CurvePages, specification_curve_figure,
                                                    write_specification_curves)

NAN = float("nan")
MODEL, TERM = "dynamic ~ market", "sells_internationally"
LABELS = {"a": "Decision A", "a/x": "Option X", "a/y": "Option Y", "b": "Decision B", "b/p": "P", "b/q": "Q"}  # b/r: no label


def specifications() -> pd.DataFrame:
    rows = [(1, "x", "p", 0.5, -0.2, 1.2), (2, "y", "p", -1.0, -1.8, -0.2), (3, "x", "q", 2.0, 0.5, 3.5),
            (4, "y", "q", 0.5, 0.1, 0.9), (5, "x", "r", NAN, NAN, NAN), (6, "y", "r", -0.3, NAN, NAN)]
    frame = pd.DataFrame(rows, columns=["universe", "a", "b", "estimate", "ci_low", "ci_high"])
    other = frame.assign(term="other_term", estimate=9.0)  # another term: never on this curve
    frame = pd.concat([frame.assign(term=TERM), other], ignore_index=True)
    return frame.assign(model=MODEL, outcome="dynamic", std_error=0.4, p_value=0.2, method="ml", n=25, notes="")


def points(ax, n: int) -> PathCollection:
    return next(c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets()) == n)


def rows(ax) -> dict[int, str]:
    return {int(y): t.get_text() for y, t in zip(ax.get_yticks(), ax.get_yticklabels())}


def test_the_curve_is_sorted_coloured_by_side_with_the_options_beneath():
    fig = specification_curve_figure(specifications(), ["a", "b"], MODEL, TERM, LABELS)
    curve, choices = fig.axes  # the decisions' panels share one axes, a row per option
    dots = points(curve, 5)
    assert np.allclose(dots.get_offsets()[:, 0], [1, 2, 3, 4, 5])
    assert np.allclose(dots.get_offsets()[:, 1], np.exp([-1.0, -0.3, 0.5, 0.5, 2.0]))  # odds ratios
    assert curve.get_yscale() == "log"
    expected = [to_rgba(c) for c in (BELOW, SPANS, SPANS, ABOVE, ABOVE)]
    assert [tuple(c) for c in dots.get_facecolors()] == expected
    assert [t.get_text() for t in choices.get_xticklabels()] == ["2", "6", "1", "4", "3"]
    # rows, top to bottom: a = x (4), y (3); b = p (2), q (1), r (0); each universe's option, in its colour
    assert rows(choices) == {4: "Option X", 3: "Option Y", 2: "P", 1: "Q", 0: "r"}  # b/r has no label: the name
    bars = points(choices, 10)
    assert np.allclose(bars.get_offsets()[:, 0], [1, 2, 3, 4, 5] * 2)
    assert np.allclose(bars.get_offsets()[:, 1], [3, 3, 4, 3, 4] + [2, 0, 2, 1, 1])
    assert [tuple(c) for c in bars.get_facecolors()] == expected * 2
    # each decision named beside its rows, the two apart by a line between rows 3 and 2
    assert {t.get_text(): t.xy[1] for t in choices.texts} == {"Decision A": 3.5, "Decision B": 1.0}
    assert [line.get_ydata()[0] for line in choices.get_lines()] == [2.5]
    assert "1 universe(s) without an estimate not shown" in choices.get_xlabel()


def test_odds_ratios_read_as_plain_numbers():
    """The curve's axis runs from the lowest limit / 1.5 to the highest * 1.5: exp(-1.8) / 1.5 = 0.110 to
    exp(3.5) * 1.5 = 49.7, under three powers of ten, so ticked at 1, 2 and 5 times each power, written plainly."""
    curve = specification_curve_figure(specifications(), ["a", "b"], MODEL, TERM, LABELS).axes[0]
    low, high = curve.get_ylim()
    assert (round(low, 3), round(high, 1)) == (0.110, 49.7)
    shown = [t.get_text() for v, t in zip(curve.get_yticks(), curve.get_yticklabels()) if low <= v <= high]
    assert shown == ["0.2", "0.5", "1", "2", "5", "10", "20"]
    assert curve.yaxis.get_minorticklocs().size == 0


def test_decision_names_stand_whole_left_of_their_options():
    """A long option label pushes every decision's name further left: no name overlaps an option label."""
    labels = {**LABELS, "b/q": "An option whose label is a good deal longer than the decision's name"}
    fig = specification_curve_figure(specifications(), ["a", "b"], MODEL, TERM, labels)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    choices = fig.axes[1]
    names = [t.get_window_extent(renderer) for t in choices.texts]
    options = [t.get_window_extent(renderer) for t in choices.get_yticklabels()]
    assert len(names) == 2 and len(options) == 5
    assert all(name.x1 < min(o.x0 for o in options) for name in names)
    assert not [(n, o) for n in names for o in options if n.overlaps(o)]


def test_estimates_on_their_own_scale_with_null_0():
    fig = specification_curve_figure(specifications(), ["a", "b"], MODEL, TERM, LABELS, odds=False)
    curve = fig.axes[0]
    assert np.allclose(points(curve, 5).get_offsets()[:, 1], [-1.0, -0.3, 0.5, 0.5, 2.0])
    assert curve.get_yscale() == "linear"


def test_files_are_byte_identical_across_runs_and_carry_no_date(tmp_path):
    specs = specifications()
    files = {(MODEL, TERM): [tmp_path / "c.png", tmp_path / "c.pdf"], (MODEL, "absent"): [tmp_path / "none.png"]}
    first = write_specification_curves(specs, ["a", "b"], LABELS, files)
    before = [p.read_bytes() for p in first]
    again = write_specification_curves(specs, ["a", "b"], LABELS, files)
    assert [p.read_bytes() for p in again] == before
    assert b"CreationDate" not in before[1] and b"Matplotlib" not in before[1] and before[0][:4] == b"\x89PNG"


def test_a_frame_without_the_columns_is_refused():
    with pytest.raises(CasemetaError, match="no column 'b'"):
        specification_curve_figure(specifications().drop(columns="b"), ["a", "b"], MODEL, TERM, LABELS)


def drawn(fig) -> np.ndarray:
    """The figure's pixels, as the PNG draws them."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_a_curve_drawn_where_another_was_is_the_curve_drawn_anew():
    """The pages of one PDF share a figure (CurvePages): a curve drawn in place of another, of the same number of
    universes, leaves nothing of the other (no bar, point, interval, tick or label) and is, pixel for pixel, the
    curve drawn on a figure of its own. The second term's estimates are the first's reversed in sign (SYNTHETIC), so
    its order, colours and axis range all differ."""
    specs = specifications()
    flipped = specs[specs["term"] == TERM].assign(term="flipped", estimate=lambda f: -f["estimate"],
                                                  ci_low=lambda f: -f["ci_high"], ci_high=lambda f: -f["ci_low"])
    specs = pd.concat([specs, flipped], ignore_index=True)
    pages = CurvePages(specs, ["a", "b"], LABELS)
    first = pages.figure(MODEL, TERM, "first")
    drawn(first)
    again = pages.figure(MODEL, "flipped", "second")
    assert again is first  # the same figure, redrawn
    reused = drawn(again)
    pages.close()
    fresh = specification_curve_figure(specs, ["a", "b"], MODEL, "flipped", LABELS, title="second")
    assert [t.get_text() for t in fresh.axes[1].get_xticklabels()] == ["3", "1", "4", "6", "2"]  # -2.0 ... 1.0
    assert reused.shape == drawn(fresh).shape and (reused == drawn(fresh)).all()
    assert [len(ax.collections) for ax in again.axes] == [len(ax.collections) for ax in fresh.axes]


def test_a_page_that_fails_leaves_no_figure_open_and_the_next_curve_whole(monkeypatch, tmp_path):
    """Drawing or measuring a page can fail (a full disk, a bug): no figure stays open, the PDF is not written, and
    the pages' next curve is drawn whole on a new figure (the failed curve drew part of itself on the old one)."""
    import matplotlib.pyplot as plt

    from casemeta.publish import specification_figures as figures

    specs = specifications()
    absent = specs[specs["term"] == TERM].assign(term="absent", estimate=NAN)  # its page is a note of its own
    flipped = specs[specs["term"] == TERM].assign(term="flipped", estimate=lambda f: -f["estimate"])  # same size
    specs = pd.concat([absent, specs, flipped], ignore_index=True)
    before = plt.get_fignums()
    monkeypatch.setattr(figures, "crop_box", lambda fig: (_ for _ in ()).throw(OSError("synthetic failure")))
    with pytest.raises(CasemetaError, match="synthetic failure"):  # atomic_io names the file it could not write
        figures.write_curve_pages(specs, ["a", "b"], LABELS, tmp_path / "curves.pdf")
    assert plt.get_fignums() == before and not (tmp_path / "curves.pdf").exists()
    monkeypatch.undo()

    pages, calls = CurvePages(specs, ["a", "b"], LABELS), []
    real = figures._draw_choices

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            real(*args, **kwargs)
            raise RuntimeError("synthetic failure midway")
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, "_draw_choices", fails_once)
    pages.figure(MODEL, TERM, "first")
    with pytest.raises(RuntimeError):
        pages.figure(MODEL, "flipped", "second")  # drawn where the first was
    again = drawn(pages.figure(MODEL, TERM, "first"))
    pages.close()
    fresh = specification_curve_figure(specs, ["a", "b"], MODEL, TERM, LABELS, title="first")
    assert (again == drawn(fresh)).all()
