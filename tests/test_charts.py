import numpy as np
import pytest

from mnistdemo import charts
from mnistdemo.models import SIGMOID_SOFTMAX_CAP
from mnistdemo.training import EpochResult

HISTORY = [
    EpochResult(1, 1.9, 70.0, 71.0, 0.4),
    EpochResult(2, 1.7, 85.5, 86.25, 0.8),
    EpochResult(3, 1.6, 90.0, 89.5, 1.2),
]


def batch_losses(epochs: int, batches: int) -> list[tuple[float, float]]:
    """(fractional epoch, loss) of every batch, the loss falling steadily."""
    steps = [(epoch, batch) for epoch in range(epochs) for batch in range(1, batches + 1)]
    return [(epoch + batch / batches, 2.0 - 0.01 * (epoch * batches + batch)) for epoch, batch in steps]


def test_smoothing_is_the_running_mean_of_the_last_window_batches():
    losses = [(0.1, 4.0), (0.2, 2.0), (0.3, 0.0), (0.4, 6.0)]
    x, y = charts.smooth_batch_losses(losses, window=2)
    np.testing.assert_allclose(x, [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(y, [4.0, 3.0, 1.0, 3.0])  # the first point is the first loss


def test_smoothing_thins_long_runs_but_keeps_both_ends():
    losses = batch_losses(epochs=30, batches=235)
    x, y = charts.smooth_batch_losses(losses, max_points=500)
    assert len(x) == len(y) <= 500
    assert x[0] == losses[0][0] and x[-1] == losses[-1][0] == 30.0
    assert np.all(np.diff(x) > 0)


def test_smoothing_of_nothing_is_empty():
    x, y = charts.smooth_batch_losses([])
    assert len(x) == len(y) == 0


def test_loss_chart_has_smoothed_batches_and_epoch_losses_against_epochs():
    figure = charts.loss_chart(HISTORY, batch_losses(epochs=3, batches=50))
    batches, epochs = figure.data
    assert list(epochs.x) == [1, 2, 3] and list(epochs.y) == [1.9, 1.7, 1.6]
    assert batches.x[-1] == 3.0 and len(batches.x) == 150
    assert figure.layout.xaxis.title.text == "epoch"
    assert figure.layout.yaxis.title.text == "cross-entropy loss"
    assert "epoch" in epochs.hovertemplate and "loss" in batches.hovertemplate
    assert not figure.layout.annotations  # no "press Train" placeholder once there is data


def test_loss_chart_during_the_first_epoch_shows_the_batches():
    figure = charts.loss_chart([], batch_losses(epochs=1, batches=200)[:40])
    batches, epochs = figure.data
    assert len(batches.x) == 40 and len(epochs.x) == 0
    assert figure.layout.xaxis.range[1] >= 1.0  # the axis spans the whole first epoch


def test_empty_charts_say_what_will_appear():
    assert "Train" in charts.loss_chart([], []).layout.annotations[0].text
    assert "first epoch" in charts.accuracy_chart([]).layout.annotations[0].text


def test_accuracy_chart_has_train_and_test_in_percent():
    figure = charts.accuracy_chart(HISTORY)
    train, test = figure.data
    assert (train.name, test.name) == ("train", "test")
    assert list(train.y) == [70.0, 85.5, 90.0] and list(test.y) == [71.0, 86.25, 89.5]
    assert list(test.x) == [1, 2, 3]
    assert figure.layout.yaxis.title.text == "accuracy (%)"
    assert "%" in test.hovertemplate


def test_epoch_axis_keeps_about_ten_whole_epoch_ticks():
    history = [EpochResult(epoch, 1.0, 90.0, 90.0, epoch) for epoch in range(1, 101)]
    axis = charts.accuracy_chart(history).layout.xaxis
    assert axis.dtick == 10 and axis.range[1] >= 100


def test_fonts_are_large_enough_to_read_projected():
    for figure in (
        charts.loss_chart(HISTORY, []),
        charts.accuracy_chart(HISTORY),
        charts.probability_chart([0.1] * 10),
    ):
        assert figure.layout.font.size >= 16


def test_probability_chart_has_ten_bars_on_a_fixed_scale():
    probabilities = np.array([0.01, 0.02, 0.03, 0.7, 0.04, 0.05, 0.05, 0.05, 0.03, 0.02])
    figure = charts.probability_chart(probabilities)
    (bars,) = figure.data
    assert bars.type == "bar"
    assert list(bars.x) == [str(digit) for digit in range(10)]
    np.testing.assert_allclose(bars.y, probabilities)
    assert tuple(figure.layout.yaxis.range) == (0, 1.08)
    assert bars.text[3] == "0.70"
    assert not figure.layout.shapes  # no ceiling line without a cap


def test_probability_chart_draws_and_explains_the_seed_ceiling():
    figure = charts.probability_chart(np.full(10, 0.1), cap=SIGMOID_SOFTMAX_CAP)
    (line,) = figure.layout.shapes
    assert line.y0 == line.y1 == pytest.approx(SIGMOID_SOFTMAX_CAP)
    assert "0.23" in figure.layout.annotations[0].text


def test_probability_chart_needs_ten_probabilities():
    with pytest.raises(ValueError, match="10 probabilities"):
        charts.probability_chart([0.5, 0.5])


def test_bar_colors_mark_the_guess_and_the_truth():
    probabilities = [0.0, 0.1, 0.6, 0.3, 0, 0, 0, 0, 0, 0]
    assert charts.bar_colors(probabilities) == [charts.GREY] * 2 + [charts.BLUE] + [charts.GREY] * 7
    right = charts.bar_colors(probabilities, true_label=2)
    assert right[2] == charts.GREEN and right.count(charts.GREY) == 9
    wrong = charts.bar_colors(probabilities, true_label=3)
    assert wrong[2] == charts.RED and wrong[3] == charts.GREEN and wrong.count(charts.GREY) == 8
