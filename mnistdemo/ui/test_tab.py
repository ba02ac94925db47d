"""The Test digits tab: a grid of test digits with the model's guesses, mistakes framed in red,
filtered by true digit and guess; select one to see it large with the model's probability for each
digit, and why it answers so."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import gallery
from ..data import MnistData
from ..inference import predicted_labels, top_guess
from ..jobs import JobSnapshot
from ..pictures import digit_tile, enlarge
from . import digit_filter, replay, why
from .plot import PICTURE_FORMAT
from .probabilities import show_probabilities

DEFAULT_DIGIT = 33  # 1-based, the one the notebook looks at
COLUMNS = 5  # PAGE_SIZE / COLUMNS rows
TILE_SCALE = 4
LARGE_SCALE = 10


def _select(number: int) -> None:
    st.session_state.test_digit = number


def _follow_selection() -> None:
    """After the filter or the digit number changed: turn to the page showing the selected digit."""
    st.session_state.follow_selection = True


def _page_key() -> str:
    """Turning the grid to a page is a new pagination widget starting there: Streamlit warns in its
    log when a widget that has a default value is also set through the Session State API."""
    return f"test_page_{st.session_state.get('test_page_turn', 0)}"


def _show_all() -> None:
    digit_filter.show_all()
    _follow_selection()


def render(mnist: MnistData, snapshot: JobSnapshot) -> None:
    labels = mnist.test_labels.numpy()
    st.session_state.setdefault("test_digit", DEFAULT_DIGIT)
    replay.slider(snapshot)
    weights = replay.chosen(snapshot)
    st.caption(replay.caption(snapshot, weights))
    grid, detail = st.columns([3, 2], gap="large")
    with grid:
        true_column, guess_column, number_column = st.columns(3, vertical_alignment="bottom")
        mistakes_column, order_column, clear_column = st.columns(3, vertical_alignment="bottom")
        places = (true_column, guess_column, mistakes_column, order_column)
        chosen = digit_filter.controls(places, on_change=_follow_selection)
        probabilities = None
        if chosen.needs_predictions:
            with st.spinner("Classifying the 10,000 test digits…"):
                probabilities = replay.all_test_probabilities(mnist, weights)
        shown = gallery.shown_digits(labels, probabilities, chosen)
        if st.session_state.pop("select_first_shown", False) and len(shown):  # a confusion cell was clicked
            st.session_state.test_digit = int(shown[0]) + 1
            _follow_selection()
        number_column.number_input(
            "Test digit #", 1, len(labels), key="test_digit", on_change=_follow_selection, persist_state="session"
        )
        clear_column.button("Show all digits", key="show_all_digits", on_click=_show_all, width="stretch")
        selected = st.session_state.test_digit - 1
        if st.session_state.pop("follow_selection", False):
            st.session_state.pop(_page_key(), None)  # the old widget's page
            st.session_state.test_page_turn = st.session_state.get("test_page_turn", 0) + 1
            st.session_state.test_page_start = gallery.page_of(shown, selected) or 1
        _grid(mnist, weights, shown, labels, selected, gallery.describe(chosen, len(shown)))
    with detail:
        probabilities = _detail(mnist, snapshot, weights, selected, int(labels[selected]))
    why.render(
        mnist.test_images[selected].numpy(),
        probabilities,
        weights,
        snapshot.config.model,
        f"test_{selected}",
        true_label=int(labels[selected]),
    )


def _grid(
    mnist: MnistData, weights: replay.Weights, shown: np.ndarray, labels: np.ndarray, selected: int, summary: str
) -> None:
    if not len(shown):
        st.info(f"{summary} No test digit passes this filter.")
        return
    pages = gallery.page_count(len(shown))
    st.caption(
        f"{summary} {pages:,} page{'s' if pages > 1 else ''}. Under each: the true label → the model's guess; "
        "a red frame and ✗ mark a mistake. Click one to look closer."
    )
    start = min(st.session_state.get("test_page_start", 1), pages)
    page = st.pagination(pages, default=start, key=_page_key(), max_visible_pages=9, persist_state="session")
    digits = gallery.page_digits(shown, page)
    guesses = predicted_labels(replay.test_probabilities(mnist, weights, digits))
    for row in range(0, len(digits), COLUMNS):
        for position, column in enumerate(st.columns(COLUMNS), start=row):
            if position >= len(digits):
                break
            digit, label, guess = int(digits[position]), int(labels[digits[position]]), int(guesses[position])
            with column:
                tile = digit_tile(mnist.test_images[digit].numpy(), TILE_SCALE, mistake=guess != label)
                st.image(tile, width="stretch", output_format=PICTURE_FORMAT)
                st.button(
                    gallery.tile_label(label, guess),
                    key=f"tile_{position}",
                    on_click=_select,
                    args=(digit + 1,),
                    help=gallery.tile_help(digit, label, guess),
                    width="stretch",
                    type="primary" if digit == selected else "secondary",
                )


def _detail(mnist: MnistData, snapshot: JobSnapshot, weights: replay.Weights, digit: int, label: int) -> np.ndarray:
    """The selected digit, large, with the model's guess and probabilities; returns them."""
    probabilities = replay.test_probabilities(mnist, weights, np.array([digit]))[0]
    guess, probability = top_guess(probabilities)
    st.subheader(f"Test digit #{digit + 1}")
    picture, words = st.columns(2, vertical_alignment="center")
    picture.image(enlarge(mnist.test_images[digit].numpy(), LARGE_SCALE), output_format=PICTURE_FORMAT)
    words.metric("True label", label)
    words.metric("Model's guess", guess, f"probability {probability:.2f}", delta_color="off", delta_arrow="off")
    show_probabilities(probabilities, snapshot.config.model, "test_chart", true_label=label)
    return probabilities
