"""The Data tab: one training digit and its label, the notebook's first look at MNIST."""

from __future__ import annotations

import random

import streamlit as st

from ..data import MnistData
from ..pictures import enlarge

SCALE = 10  # 280 x 280 on screen


def _another(count: int) -> None:
    st.session_state.train_digit = random.randrange(count)


def render(mnist: MnistData) -> None:
    count = len(mnist.train_labels)
    digit = st.session_state.setdefault("train_digit", 0)
    picture, words = st.columns([1, 2], vertical_alignment="center")
    picture.image(enlarge(mnist.train_images[digit].numpy(), SCALE))
    with words:
        st.metric("Label", int(mnist.train_labels[digit]))
        st.caption(f"Training digit #{digit + 1:,} of {count:,}: 28 × 28 gray pixels, ink bright, each 0–1.")
        st.button("Another digit", key="another_digit", on_click=_another, args=(count,))
