"""The inside views' figures and pictures: the clickable confusion matrix, each digit's accuracy,
the steadiness lines, the weight pictures and the attribution overlay."""

from __future__ import annotations

import numpy as np

from mnistdemo import inside_charts, weight_pictures
from mnistdemo.explain import Sweep
from mnistdemo.models import SIGMOID_SOFTMAX_CAP


def matrix() -> np.ndarray:
    counts = np.zeros((10, 10), dtype=int)
    np.fill_diagonal(counts, 90)
    counts[4, 9] = 37
    return counts


def test_each_click_target_of_the_confusion_chart_is_its_cell_with_its_count():
    chart = inside_charts.confusion_chart(matrix())
    right, wrong, targets = chart.data
    assert (right.type, wrong.type, targets.type) == ("heatmap", "heatmap", "scatter")
    index = 4 * 10 + 9
    assert inside_charts.cell_of(index) == (4, 9)
    assert (targets.x[index], targets.y[index], targets.text[index]) == (9, 4, "37")
    hover = targets.hovertemplate.replace("%{y}", "4").replace("%{x}", "9").replace("%{customdata[0]}", "37")
    assert hover.startswith("true 4 → predicted 9: 37 digits")
    assert list(targets.customdata[index]) == ["37", "wrong"] and targets.customdata[44][1] == "right"
    assert targets.text[3] == ""  # an empty cell shows no 0
    assert chart.layout.clickmode == "event+select" and chart.layout.hoverdistance == -1


def test_the_diagonal_is_green_by_share_right_and_mistakes_red_by_their_share():
    right, wrong, _ = inside_charts.confusion_chart(matrix()).data
    shares = np.array(right.z, dtype=float)
    assert shares[4, 4] == 90 / 127 and np.isnan(shares[4, 9])  # 37 of digit 4's 127 went to 9
    depth = np.array(wrong.z, dtype=float)
    assert depth[4, 9] == 1.0 and depth[3, 2] == 0.0 and np.isnan(depth[4, 4])  # 29% > the full-red 10%


def test_class_accuracy_bars_mark_the_weakest_digit():
    accuracy = np.array([99, 98, 90, 95, 80, 96, 97, 94, 93, np.nan])
    bars = inside_charts.class_accuracy_chart(accuracy).data[0]
    assert list(bars.y[:9]) == list(accuracy[:9]) and bars.text[9] == "–"
    assert bars.marker.color[4] != bars.marker.color[0]


def test_steadiness_chart_has_a_panel_per_move_with_the_two_digits_asked_about_highlighted():
    probabilities = np.full((9, 10), 0.05)
    probabilities[:, 7] = np.linspace(0.1, 0.2, 9)
    probabilities[:, 3] = 0.03
    sweeps = [Sweep(f"move {index}", np.arange(-4, 5), probabilities) for index in range(4)]
    chart = inside_charts.steadiness_chart(sweeps, (7, 1), SIGMOID_SOFTMAX_CAP)
    assert len(chart.data) == 4 * 3  # per panel: the eight other digits as one line, then 7 and 1
    assert [trace.xaxis for trace in chart.data[::3]] == ["x", "x2", "x3", "x4"]
    others, seven, one = chart.data[9:]
    assert (seven.name, one.name, seven.yaxis) == ("7", "1", "y4") and seven.line.width > others.line.width
    assert list(seven.y) == list(probabilities[:, 7])
    assert others.y.count(None) == 8 and others.y[20:29] == tuple([0.03] * 9)  # 0, 2, then 3
    assert set(others.customdata) == {0, 2, 3, 4, 5, 6, 8, 9}
    assert chart.layout.xaxis4.title.text == "move 3" and chart.layout.yaxis4.range[1] < 0.25
    assert chart.layout.xaxis2.domain[0] > chart.layout.xaxis.domain[1]  # side by side
    assert chart.layout.yaxis3.domain[1] < chart.layout.yaxis.domain[0]  # the second row below the first


def test_unit_tiles_are_coloured_from_the_weights_on_one_scale_centred_on_zero():
    weights = np.zeros((2, 28, 28))
    weights[0, 0, 0], weights[1, 0, 0] = 2.0, -1.0
    picture = weight_pictures.unit_grid(weights, columns=2, scale=1)
    assert picture.dtype == np.uint8 and picture.ndim == 3
    colours = weight_pictures.diverging(weights)
    assert tuple(colours[0, 0, 0]) == tuple(weight_pictures.DIVERGING[-1].astype(int))  # the largest: full blue
    assert tuple(colours[0, 5, 5]) == tuple(weight_pictures.DIVERGING[2].astype(int))  # zero: the middle
    half_red = weight_pictures.diverging(np.array([-1.0]), limit=2.0)[0]
    assert tuple(half_red) == tuple(weight_pictures.DIVERGING[1].astype(int))  # -1 of ±2: halfway to red
    for colour in colours[:, 0, 0]:  # both units' extreme pixels are in the picture, in their colours
        assert (picture == colour).all(axis=2).any()


def test_firing_units_stay_vivid_and_quiet_ones_fade():
    weights = np.ones((2, 28, 28))
    votes = np.zeros((2, 10))
    quiet_and_firing = weight_pictures.unit_grid(weights, votes, np.array([0.0, 1.0]), columns=2, scale=1)
    left, right = np.array_split(quiet_and_firing, 2, axis=1)
    assert right.min() < left.min()  # the firing unit's blue is deeper than the faded one's


def test_attribution_overlay_is_blue_for_and_red_against_over_the_digit():
    image = np.zeros((28, 28))
    image[10, 10] = 1
    attribution = np.zeros((28, 28))
    attribution[5, 5], attribution[6, 6] = 0.5, -0.5
    overlay = weight_pictures.attribution_overlay(image, attribution, limit=0.5, scale=1)
    assert tuple(overlay[5, 5]) == tuple(weight_pictures.DIVERGING[-1].astype(int))
    assert tuple(overlay[6, 6]) == tuple(weight_pictures.DIVERGING[0].astype(int))
    assert overlay[10, 10, 0] == overlay[10, 10, 1] < 255 and tuple(overlay[0, 0]) == (255, 255, 255)
