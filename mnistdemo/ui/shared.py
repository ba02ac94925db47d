"""Pieces of the page that several tabs show."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from .. import charts
from ..models import SEED_PROBABILITY_CAP
from ..status import Notice
from . import state

PLOTLY_CONFIG = {"displayModeBar": False}  # no toolbar over the charts on a projected screen

# Streamlit animates every change of a progress bar's width. During a run both bars change at every
# poll, and in headless Chromium on 2 cores each animation cost the browser about 0.1 CPU-s, taken
# from the training beside it (see README, "Speed of the app"). The bars jump to the new value instead.
STILL_PROGRESS_BARS_CSS = "<style>[data-testid='stProgress'] * { transition: none !important; animation: none !important; }</style>"


def still_progress_bars() -> None:
    st.html(STILL_PROGRESS_BARS_CSS)  # style only: Streamlit gives it no space on the page


def show_notice(notice: Notice) -> None:
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[notice.kind](notice.text)


def show_chart(figure: go.Figure, key: str) -> None:
    st.plotly_chart(figure, key=key, theme=None, config=PLOTLY_CONFIG)


def probability_cap(model: str) -> float | None:
    """The ceiling to draw on a probability chart: only the seed model has one."""
    return SEED_PROBABILITY_CAP if model == "seed" else None


def show_probabilities(probabilities: np.ndarray, model: str, key: str, true_label: int | None = None) -> None:
    show_chart(charts.probability_chart(probabilities, probability_cap(model), true_label), key)
    seed_cap_note(model, key)


def _use_zoo_model() -> None:
    st.session_state.model = "zoo"
    state.apply_model_defaults()


def seed_cap_note(model: str, key: str) -> None:
    """Why the seed model's bars stay short, and the way out."""
    if model != "seed":
        return
    st.caption(
        f"The seed model puts a sigmoid before its softmax, so no probability can pass "
        f"e/(e+9) ≈ {SEED_PROBABILITY_CAP:.2f} (dashed line): the tallest bar is its answer. "
        "The zoo model drops that sigmoid and answers with confidence."
    )
    if st.button("Use the zoo model (press Train next)", key=f"use_zoo_{key}", on_click=_use_zoo_model):
        st.rerun()  # a click inside a fragment (the Draw tab) reruns only that: redraw the sidebar too
