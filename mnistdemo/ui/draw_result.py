"""What the Draw tab shows beside the canvas: the 28x28 image the model receives, its top guess
and the probability of each digit, or a hint when there is no digit to classify.

Kept apart from the canvas component so that tests can feed it any canvas image.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ..drawing import CanvasStatus, inspect_canvas
from ..gallery import top_guess
from ..jobs import TrainingJob
from ..pictures import enlarge
from .shared import show_probabilities

INPUT_SCALE = 7  # the 28x28 input shown as 196 x 196, every pixel a square
NOTHING = np.zeros((28, 28), dtype=np.float32)  # what the model would see of no digit


def show(image_data: np.ndarray | None, background: str, job: TrainingJob) -> None:
    """`image_data`: the canvas's RGBA pixels (None before the first stroke) on `background`."""
    verdict = inspect_canvas(image_data, background)
    model_input, guess = st.columns(2, vertical_alignment="center")
    with model_input:
        st.markdown("**What the model sees** (28 × 28)")
        st.image(enlarge(NOTHING if verdict.image is None else verdict.image, INPUT_SCALE))
    if verdict.status != CanvasStatus.DIGIT:
        guess.info(verdict.message)
        return
    probabilities = job.predict_proba(verdict.image[None])[0]
    digit, probability = top_guess(probabilities)
    guess.metric("Top guess", digit, f"probability {probability:.2f}", delta_color="off", delta_arrow="off")
    show_probabilities(probabilities, job.snapshot().config.model, "draw_chart")
