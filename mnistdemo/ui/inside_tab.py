"""The Inside tab: what the network learned. Its first layer (the MLPs' hidden units as weight
images with their votes for each digit; the cnn's filters and the feature maps of the selected test
digit), redrawn at every poll while it trains, and its mistakes by class on the 10,000 test digits,
redrawn after every epoch (at most every few seconds). A click on a cell of the matrix opens those
digits in the Test digits tab.
"""

from __future__ import annotations

import time
from collections.abc import Container
from functools import partial

import plotly.graph_objects as go
import streamlit as st

from .. import inside, inside_charts
from ..data import MnistData
from ..inference import predicted_labels
from ..jobs import JobSnapshot
from ..weight_pictures import map_grid, unit_grid
from . import digit_filter, replay, state
from .plot import show_chart, show_picture
from .test_tab import DEFAULT_DIGIT

CHART_KEY = "confusion_chart"
# While a run trains, the matrix and the bars change at most this often (the matrix shows the last
# finished epoch): redrawing them costs the browser CPU the training beside it needs (README, "Inside views").
MATRIX_REDRAW_S = 3.0
FILTER_COLUMNS = 8


def show(snapshot: JobSnapshot) -> None:
    mnist = state.data()
    replay.slider(snapshot)
    weights = replay.chosen(snapshot)
    counted = _counted_weights(snapshot) if weights.epoch is None and snapshot.active else weights
    accuracy_chart, confusion_chart = _mistake_charts(mnist, counted)
    learned, mistakes = st.columns(2, gap="medium")
    with learned:
        _first_layer(weights, mnist)
        show_chart(accuracy_chart, "class_accuracy_chart")
    with mistakes:
        show_chart(
            confusion_chart,
            CHART_KEY,
            on_select=partial(_open_cell, counted.epoch),
            selection_mode="points",
        )
        st.caption(
            "Rows: the true digit; columns: the model's guess; the diagonal holds the right answers. "
            "Click a square to see those digits."
        )
    if st.session_state.pop("cell_opened", False):
        st.rerun()  # the click ran only this fragment: now the whole page, to open the Test digits tab


def _counted_weights(snapshot: JobSnapshot) -> replay.Weights:
    """While a run trains: the weights of the epoch the matrix shows, and remember when it changed."""
    kept = {weights.version: weights for weights in snapshot.epoch_weights}
    shown, now = st.session_state.get("matrix_shown"), time.monotonic()
    version = matrix_version(shown, snapshot.epoch_weights[-1].version, kept.keys(), now)
    if shown is None or version != shown[0]:
        st.session_state.matrix_shown = (version, now)
    return replay.epoch_weights(snapshot, kept[version])


def _mistake_charts(mnist: MnistData, counted: replay.Weights) -> tuple[go.Figure, go.Figure]:
    """The bars by digit and the matrix for these weights, built once and kept: while a run trains, the
    page shows the same ones for several polls, and building a plotly figure costs the server (and the
    training thread beside it) more than showing one."""
    key = (counted.version, counted.epoch)
    kept = st.session_state.get("mistake_charts")
    if kept is None or kept[0] != key:
        probabilities = replay.all_test_probabilities(mnist, counted)
        matrix = inside.confusion_matrix(mnist.test_labels.numpy(), predicted_labels(probabilities))
        accuracy = inside_charts.class_accuracy_chart(inside.class_accuracy(matrix))
        kept = key, accuracy, inside_charts.confusion_chart(matrix, f"Mistakes by class, {_when(counted.epoch)}")
        st.session_state.mistake_charts = kept
    return kept[1], kept[2]


def matrix_version(shown: tuple[int, float] | None, latest: int, kept: Container[int], now: float) -> int:
    """Which kept epoch (by weights version) the matrix shows while a run trains: the last finished one,
    but a newer one only `MATRIX_REDRAW_S` after the last change. `shown`: (version, monotonic time)
    of the matrix on the page."""
    if shown is None or shown[0] not in kept or now - shown[1] >= MATRIX_REDRAW_S:
        return latest
    return shown[0]


def _when(epoch: int | None) -> str:
    return "now" if epoch is None else ("untrained" if epoch == 0 else f"after epoch {epoch}")


def _open_cell(epoch: int | None) -> None:
    points = st.session_state[CHART_KEY].selection.points
    if not points:
        return
    true_label, guess = inside_charts.cell_of(points[0]["point_index"])
    digit_filter.show_cell(true_label, guess)
    st.session_state[replay.KEY] = replay.LIVE if epoch is None else epoch  # the browser shows the same weights
    st.session_state.cell_opened = True


def _first_layer(weights: replay.Weights, mnist: MnistData) -> None:
    layer = inside.first_layer(weights.model)
    if not layer.convolutional:
        st.markdown(f"**What each of the {len(layer.weights)} hidden units looks for**, {_when(weights.epoch)}")
        show_picture(unit_grid(layer.weights, layer.votes))
        st.caption(
            "Each unit's 784 input weights as a 28 × 28 image: ink on blue pixels excites it, on red ones "
            "inhibits it (one scale for all). Under each: its weights to the digits 0–9, left to right (blue: "
            "a vote for that digit, red: against); → the digit it votes for most."
        )
        return
    st.markdown(f"**The {len(layer.weights)} first-layer filters**, {_when(weights.epoch)}")
    show_picture(map_grid(layer.weights, signed=True, columns=FILTER_COLUMNS, label="filter"))
    st.caption("Each 5 × 5 filter slides over the digit: ink on blue weights raises its response, on red lowers it.")
    digit = st.session_state.get("test_digit", DEFAULT_DIGIT) - 1
    maps = inside.first_layer_response(weights.model, mnist.test_images[digit].numpy())
    st.markdown(f"**Their feature maps for test digit #{digit + 1}** (choose it in the Test digits tab)")
    show_picture(map_grid(maps, signed=False, columns=FILTER_COLUMNS))
    st.caption("Where each filter found its pattern in the digit (dark: strongly), after the ReLU.")
