"""Why this answer, for one digit (a test digit or a drawing): where the model looks, how steady
its answer is when the digit moves, and what its first layer makes of it."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import explain, inside, inside_charts
from ..models import preset
from ..weight_pictures import attribution_overlay, map_grid, symmetric_limit, unit_grid
from .plot import show_chart, show_picture
from .replay import Weights

MAP_COLUMNS = 8


def render(
    image: np.ndarray, probabilities: np.ndarray, weights: Weights, model: str, key: str, true_label: int | None = None
) -> None:
    """`image`: the (28, 28) input; `key`: names this digit's widgets ("test_33", "draw"). "Why not"
    asks first about the true digit when the model got it wrong, else about its runner-up."""
    ranked = [int(digit) for digit in np.argsort(-probabilities)]
    guess = ranked[0]
    others = [digit for digit in range(10) if digit != guess]
    suggested = true_label if true_label is not None and true_label != guess else ranked[1]
    st.subheader("Why this answer?")
    looks, steady = st.columns([2, 3], gap="large")
    with looks:
        other = st.selectbox(
            f"Where the model looks: why {guess}, and why not…",
            others,
            index=others.index(suggested),
            key=f"why_not_{key}",
        )
        maps = explain.attributions(weights.model, image, [guess, other])
        limit = symmetric_limit(maps)
        for column, attribution, title in zip(st.columns(2), maps, (f"why {guess}", f"why not {other}"), strict=True):
            with column:
                show_picture(attribution_overlay(image, attribution, limit), caption=title)
        st.caption(
            f"Blue ink speaks for the digit, red against it (integrated gradients of the model's log-probability "
            f"of {guess}, and of {other}, from a blank image; both maps on one scale). Only ink can count: "
            "a missing stroke shows as nothing."
        )
    with steady:
        st.markdown(f"**How steady the answer is**: the probability of each digit ({guess} blue, {other} orange)")
        cap = preset(model).probability_cap
        sweeps = explain.steadiness(weights.model, image)
        show_chart(inside_charts.steadiness_chart(sweeps, (guess, other), cap), f"steadiness_{key}")
        st.caption(
            "The digit shifted by whole pixels (negative: left, up), turned about its centre (negative: "
            "clockwise), its strokes eroded (−1) or dilated (+1) by a pixel; at 0 it is as the model saw it."
        )
    _first_layer(image, weights, guess)


def _first_layer(image: np.ndarray, weights: Weights, guess: int) -> None:
    layer = inside.first_layer(weights.model)
    response = inside.first_layer_response(weights.model, image)
    picture, words = st.columns([2, 1], gap="large")
    with picture:
        if layer.convolutional:
            show_picture(map_grid(response, signed=False, columns=MAP_COLUMNS))
        else:
            show_picture(unit_grid(layer.weights, layer.votes, response))
    if layer.convolutional:
        words.markdown(f"**What the {len(response)} first-layer filters find in this digit**")
        words.caption(
            "Each filter's feature map (dark: it found its pattern there), after the ReLU; the Inside tab shows "
            "the filters."
        )
        return
    words.markdown(f"**Which of the {len(response)} hidden units fire for this digit**")
    words.caption(
        "The Inside tab's units. The green bar and the number: how strongly each unit fires (0–1); units "
        f"that hardly fire fade. A firing unit with a blue square at {guess} in its strip (the digits 0–9, "
        f"left to right) votes for {guess}."
    )
