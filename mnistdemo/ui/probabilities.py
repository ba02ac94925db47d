"""The model's probability for each digit, as the Test digits and Draw tabs show them, with the
note that explains a capped model's short bars."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import charts
from ..models import preset
from . import state
from .plot import show_chart


def show_probabilities(probabilities: np.ndarray, model: str, key: str, true_label: int | None = None) -> None:
    show_chart(charts.probability_chart(probabilities, preset(model).probability_cap, true_label), key)
    cap_note(model, key)


def _use_model(name: str) -> None:
    st.session_state.model = name
    state.apply_model_defaults()


def cap_note(model: str, key: str) -> None:
    """Why a capped model's bars stay short, and the way out."""
    spec = preset(model)
    if spec.probability_cap is None:
        return
    st.caption(spec.cap_note)
    label = f"Use the {spec.uncapped_variant} model (press Train next)"
    if st.button(label, key=f"use_uncapped_{key}", on_click=_use_model, args=(spec.uncapped_variant,)):
        st.rerun()  # a click inside a fragment (the Draw tab) reruns only that: redraw the sidebar too
