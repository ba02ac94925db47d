"""The Test digits tab: a grid of test digits with the model's guesses, mistakes framed in red;
select one to see it large with the model's probability for each digit."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import gallery, wording
from ..data import MnistData
from ..inference import predicted_labels, top_guess
from ..jobs import JobSnapshot
from ..pictures import digit_tile, enlarge
from . import state
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


def render(mnist: MnistData, snapshot: JobSnapshot) -> None:
    labels = mnist.test_labels.numpy()
    st.session_state.setdefault("test_digit", DEFAULT_DIGIT)
    st.caption(wording.predictions_caption(snapshot))
    grid, detail = st.columns([3, 2], gap="large")
    with grid:
        filter_column, number_column = st.columns(2, vertical_alignment="bottom")
        mistakes_only = filter_column.toggle(
            "Mistakes only", key="mistakes_only", on_change=_follow_selection, persist_state="session"
        )
        number_column.number_input(
            "Test digit #", 1, len(labels), key="test_digit", on_change=_follow_selection, persist_state="session"
        )
        selected = st.session_state.test_digit - 1
        shown = gallery.shown_digits(labels)
        if mistakes_only:
            with st.spinner("Classifying the 10,000 test digits…"):
                probabilities = state.test_probabilities(mnist, snapshot.weights_version, shown)
            shown = gallery.shown_digits(labels, predicted_labels(probabilities))
        if st.session_state.pop("follow_selection", False):
            st.session_state.pop(_page_key(), None)  # the old widget's page
            st.session_state.test_page_turn = st.session_state.get("test_page_turn", 0) + 1
            st.session_state.test_page_start = gallery.page_of(shown, selected) or 1
        _grid(mnist, snapshot, shown, labels, selected)
    with detail:
        _detail(mnist, snapshot, selected, int(labels[selected]))


def _grid(mnist: MnistData, snapshot: JobSnapshot, shown: np.ndarray, labels: np.ndarray, selected: int) -> None:
    if not len(shown):
        st.success("No mistakes: the model gets every test digit right.")
        return
    pages = gallery.page_count(len(shown))
    st.caption(
        f"{len(shown):,} digits in {pages:,} pages. Under each: the true label → the model's guess; "
        "a red frame and ✗ mark a mistake. Click one to look closer."
    )
    start = min(st.session_state.get("test_page_start", 1), pages)
    page = st.pagination(pages, default=start, key=_page_key(), max_visible_pages=9, persist_state="session")
    digits = gallery.page_digits(shown, page)
    guesses = predicted_labels(state.test_probabilities(mnist, snapshot.weights_version, digits))
    for row in range(0, len(digits), COLUMNS):
        for position, column in enumerate(st.columns(COLUMNS), start=row):
            if position >= len(digits):
                break
            digit, label, guess = int(digits[position]), int(labels[digits[position]]), int(guesses[position])
            with column:
                tile = digit_tile(mnist.test_images[digit].numpy(), TILE_SCALE, mistake=guess != label)
                st.image(tile, width="stretch")
                st.button(
                    gallery.tile_label(label, guess),
                    key=f"tile_{position}",
                    on_click=_select,
                    args=(digit + 1,),
                    help=gallery.tile_help(digit, label, guess),
                    width="stretch",
                    type="primary" if digit == selected else "secondary",
                )


def _detail(mnist: MnistData, snapshot: JobSnapshot, digit: int, label: int) -> None:
    probabilities = state.test_probabilities(mnist, snapshot.weights_version, np.array([digit]))[0]
    guess, probability = top_guess(probabilities)
    st.subheader(f"Test digit #{digit + 1}")
    picture, words = st.columns(2, vertical_alignment="center")
    picture.image(enlarge(mnist.test_images[digit].numpy(), LARGE_SCALE))
    words.metric("True label", label)
    words.metric("Model's guess", guess, f"probability {probability:.2f}", delta_color="off", delta_arrow="off")
    show_probabilities(probabilities, snapshot.config.model, "test_chart", true_label=label)
