"""The test-digit browser's filter: by true digit, by the model's guess, mistakes only, the most
confident first; and `show_cell`, what a click on a confusion-matrix cell sets it to."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ..gallery import DigitFilter

DIGIT_CHOICES = (None, *range(10))
KEYS = {"true_label": "filter_true", "guess": "filter_guess"}
TAB = "Test digits"


def _any(digit: int | None) -> str:
    return "any" if digit is None else str(digit)


def controls(places: Sequence[DeltaGenerator], on_change: Callable[[], None]) -> DigitFilter:
    """The filter's four widgets, one in each of `places`; returns what they say."""
    true_column, guess_column, mistakes_column, order_column = places
    for column, label, key in ((true_column, "True digit", "true_label"), (guess_column, "Model's guess", "guess")):
        column.selectbox(
            label, DIGIT_CHOICES, key=KEYS[key], format_func=_any, on_change=on_change, persist_state="session"
        )
    mistakes_column.toggle("Mistakes only", key="mistakes_only", on_change=on_change, persist_state="session")
    order_column.toggle(
        "Most confident first",
        key="most_confident_first",
        on_change=on_change,
        persist_state="session",
        help="By the probability of the model's guess: the mistakes it was surest of come first",
    )
    return DigitFilter(
        st.session_state[KEYS["true_label"]],
        st.session_state[KEYS["guess"]],
        st.session_state.mistakes_only,
        st.session_state.most_confident_first,
    )


def show_all() -> None:
    for key in KEYS.values():
        st.session_state[key] = None
    st.session_state.mistakes_only = False
    st.session_state.most_confident_first = False


def show_cell(true_label: int, guess: int) -> None:
    """Open the browser on exactly the digits of one confusion cell (the diagonal: the right ones of
    that digit), the most confident first, the first of them selected. Call from a callback."""
    st.session_state[KEYS["true_label"]] = true_label
    st.session_state[KEYS["guess"]] = guess
    st.session_state.mistakes_only = False
    st.session_state.most_confident_first = True
    st.session_state.select_first_shown = True
    st.session_state.tab = TAB
