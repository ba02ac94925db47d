"""The Draw tab: a canvas to draw a digit on, the 28x28 image the model receives, and its guess.

The only module that imports the canvas component (it works only inside a running Streamlit page).
The tab is a fragment: a stroke reruns the tab, not the whole page.
"""

from __future__ import annotations

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from ..jobs import TrainingJob
from . import draw_result

CANVAS_SIZE = 280
PEN_WIDTH = 18  # a comfortable marker; canvas_to_mnist brings any pen width to MNIST's stroke
PEN_COLOUR = "#FFFFFF"
BACKGROUND = "#000000"  # white on black, as MNIST digits are shown
CANVAS_KEY = "draw_canvas"


def _clear() -> None:
    st.session_state.canvas_generation = st.session_state.get("canvas_generation", 0) + 1


def canvas_key() -> str:
    """A new key is a new, empty canvas: that is how Clear works."""
    return f"{CANVAS_KEY}_{st.session_state.get('canvas_generation', 0)}"


@st.fragment
def render(job: TrainingJob) -> None:
    canvas_column, result_column = st.columns([1, 2], gap="large")
    with canvas_column:
        st.space("medium")  # room for the toolbar the canvas shows above itself
        drawing = st_canvas(
            stroke_width=PEN_WIDTH,
            stroke_color=PEN_COLOUR,
            background_color=BACKGROUND,
            height=CANVAS_SIZE,
            width=CANVAS_SIZE,
            drawing_mode="freedraw",
            return_image_data=True,
            key=canvas_key(),
        )
        st.button("Clear", key="clear_canvas", on_click=_clear)
        st.caption("Draw one digit with the mouse or a finger: any size, anywhere on the canvas.")
    with result_column:
        draw_result.show(drawing.image_data, BACKGROUND, job)
