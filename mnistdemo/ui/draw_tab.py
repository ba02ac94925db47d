"""The Draw tab: a canvas to draw a digit on, the 28x28 image the model receives, and its guess,
or a hint when there is no digit to read.

The only module that imports the canvas component (it works only inside a running Streamlit page).
The tab is a fragment: a stroke reruns the tab, not the whole page. The drawing is read from what
the browser sent, checked before it is decoded (`canvas_image`), never through the component's
`image_data`, which decodes whatever it gets.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from ..canvas_image import CanvasImageError, read_canvas_png
from ..drawing import CanvasStatus, inspect_canvas
from ..inference import predict_proba, top_guess
from ..jobs import TrainingJob
from ..pictures import enlarge
from . import replay, state, why
from .plot import PICTURE_FORMAT
from .probabilities import show_probabilities

CANVAS_SIZE = 280
WALL_CANVAS_SIZE = 400  # in presentation mode: drawn on large, seen from the back of the room
PEN_WIDTH = 18  # a comfortable marker at CANVAS_SIZE; canvas_to_mnist brings any pen width to MNIST's stroke
PEN_COLOUR = "#FFFFFF"
BACKGROUND = "#000000"  # white on black, as MNIST digits are shown
CANVAS_KEY = "draw_canvas"
INPUT_SCALE = 7  # the 28x28 input shown as 196 x 196, every pixel a square
NOTHING = np.zeros((28, 28), dtype=np.float32)  # what the model would see of no digit


def _clear() -> None:
    st.session_state.canvas_generation = st.session_state.get("canvas_generation", 0) + 1


def canvas_key() -> str:
    """A new key is a new, empty canvas: that is how Clear works."""
    return f"{CANVAS_KEY}_{st.session_state.get('canvas_generation', 0)}"


@st.fragment
def render(job: TrainingJob) -> None:
    presenting = state.presenting()
    size = WALL_CANVAS_SIZE if presenting else CANVAS_SIZE
    # on a 1280-pixel wall beside the sidebar, the large canvas needs half the width
    canvas_column, result_column = st.columns([1, 1] if presenting else [1, 2], gap="small" if presenting else "large")
    with canvas_column:
        st.space("medium")  # room for the toolbar the canvas shows above itself
        st_canvas(
            stroke_width=round(PEN_WIDTH * size / CANVAS_SIZE),
            stroke_color=PEN_COLOUR,
            background_color=BACKGROUND,
            height=size,
            width=size,
            drawing_mode="freedraw",
            return_image_data=True,
            key=canvas_key(),
        )
        st.button("Clear", key="clear_canvas", on_click=_clear)
        st.caption("Draw one digit with the mouse or a finger: any size, anywhere on the canvas.")
    snapshot = job.snapshot()
    with result_column:
        replay.slider(snapshot)
        weights = replay.chosen(snapshot)
        try:
            pixels = _sent_pixels(canvas_key(), size)
        except CanvasImageError as refusal:
            st.warning(str(refusal))
            return
        reading = _show_reading(pixels, weights, snapshot.config.model)
    if reading is not None and _explaining():
        why.render(*reading, weights, snapshot.config.model, "draw")


def _explaining() -> bool:
    """Whether "Why this answer?" follows every stroke: only when asked, since it more than doubles the
    server's work after a stroke and delays the guess (README, "Inside views")."""
    return st.toggle(
        "Why this answer? Where the model looks, how steady its answer is, which units fire",
        key="explain_drawing",
        persist_state="session",
    )


def _sent_pixels(key: str, size: int) -> np.ndarray | None:
    """The canvas's pixels from the PNG data URL the browser sent (kept in the canvas's state), or
    None before the first stroke."""
    sent = st.session_state.get(key, {}).get("drawing") or {}
    data_url = sent.get("data")
    return None if data_url is None else read_canvas_png(data_url, size, size)


def _show_reading(
    image_data: np.ndarray | None, weights: replay.Weights, model: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """The 28x28 image the model receives, then its guess and the probability of each digit; returns
    the image and the probabilities, or None when there is no digit to read."""
    verdict = inspect_canvas(image_data, BACKGROUND)
    model_input, guess = st.columns(2, vertical_alignment="center")
    with model_input:
        st.markdown("**What the model sees** (28 × 28)")
        seen = NOTHING if verdict.image is None else verdict.image
        st.image(enlarge(seen, INPUT_SCALE), output_format=PICTURE_FORMAT)
    if verdict.status != CanvasStatus.DIGIT:
        guess.info(verdict.message)
        return None
    probabilities = predict_proba(weights.model, verdict.image[None])[0]
    digit, probability = top_guess(probabilities)
    guess.metric("Top guess", digit, f"probability {probability:.2f}", delta_color="off", delta_arrow="off")
    show_probabilities(probabilities, model, "draw_chart")
    return verdict.image, probabilities
