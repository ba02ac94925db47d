"""The audience page (`/room`): draw a digit on a phone against the model the presenter shared, see
what it reads, and say with one tap which digit was meant.

Laid out for a phone in portrait: the canvas as wide as the screen, the guess in big type with the
28×28 input beside it, the ten digits to tap (within a phone's first screen, so that nobody scrolls
between drawing and tapping), then the ten probabilities. No training, no model of its own, no
sidebar. Before anything is shared it says so and waits. The drawing from the phone is checked
before it is decoded; only a digit with a guess can be sent.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from .. import charts
from ..canvas_image import CanvasImageError, read_canvas_png
from ..drawing import CanvasStatus, inspect_canvas
from ..models import preset
from ..pictures import enlarge
from ..room import Reading, Room
from ..room_store import StoreError, SubmissionError
from . import screen, state, style
from .draw_tab import BACKGROUND, PEN_COLOUR
from .plot import PICTURE_FORMAT, show_chart

MIN_CANVAS = 240  # the smallest phones (320 px wide) still get a canvas a finger can draw a digit on
MAX_CANVAS = 480  # a tablet or a desktop: a digit larger than this is drawn with the arm
PEN_SHARE = 18 / 280  # the Draw tab's pen on its canvas, scaled to this one
INPUT_SCALE = 3  # the 28×28 input shown as 84 × 84
CHART_HEIGHT = 230
WAIT_POLL_S = 2.0  # while nothing is shared: how soon a waiting phone notices the presenter's share


def canvas_size(screen_width: int) -> int:
    """The canvas's side for a screen `screen_width` CSS pixels wide: all of it but the margins."""
    return int(np.clip(screen_width - 2 * style.ROOM_SIDE_PADDING_PX, MIN_CANVAS, MAX_CANVAS))


def _canvas_key(size: int) -> str:
    """A new key is a new, empty canvas: after a digit was sent, on Clear, and when the screen turns."""
    return f"{style.ROOM_CANVAS_KEY}_{size}_{st.session_state.get('room_canvas_generation', 0)}"


def _new_canvas() -> None:
    st.session_state.room_canvas_generation = st.session_state.get("room_canvas_generation", 0) + 1
    st.session_state.room_reading = None


def _send(room: Room, digit: int) -> None:
    """Keep the drawing on screen with the digit meant, then start a new canvas."""
    reading: Reading | None = st.session_state.get("room_reading")
    if reading is None:
        return
    try:
        drawing_id = room.keep(state.visitor(), reading, digit)
    except (SubmissionError, StoreError) as error:
        st.session_state.room_sent = None
        st.session_state.room_problem = f"Not sent: {error}."
        return
    st.session_state.room_sent = (drawing_id, digit, reading.guess)
    st.session_state.room_problem = ""
    _new_canvas()


def _take_back(room: Room) -> None:
    sent = st.session_state.get("room_sent")
    if sent is not None:
        room.store.take_back(sent[0], state.visitor())
    st.session_state.room_sent = None


def render() -> None:
    st.set_page_config(page_title="Draw a digit for the room", page_icon="✍️", layout="centered")
    style.apply_room()
    try:
        room = state.room()
    except StoreError as error:
        st.error(f"The room is closed: {error}")
        return
    if room.shared() is None:
        _wait_for_a_model()
        return
    width = screen.width()
    if width is None:
        return  # the next run, a moment later, knows the screen
    _draw(room, canvas_size(width))


@st.fragment(run_every=WAIT_POLL_S)
def _wait_for_a_model() -> None:
    st.subheader("Draw a digit for the room")
    st.info("The presenter has not shared a model yet. This page opens the canvas by itself as soon as they do.")
    if state.room().shared() is not None:
        st.rerun(scope="app")


def _draw(room: Room, size: int) -> None:
    shared = room.shared()
    st.markdown("**Draw one digit**, then tap which one it is")
    key = _canvas_key(size)
    st_canvas(
        stroke_width=max(4, round(PEN_SHARE * size)),
        stroke_color=PEN_COLOUR,
        background_color=BACKGROUND,
        height=size,
        width=size,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    data_url = ((st.session_state.get(key) or {}).get("drawing") or {}).get("data")
    reading, message, refused = _read(room, data_url, size)
    st.session_state.room_reading = reading
    _show_reading(reading, message, refused)
    _digit_buttons(room, reading)
    _show_sent(room)
    if reading is not None:
        _show_probabilities(reading)
    epochs = f"{shared.epochs} epoch{'s' if shared.epochs != 1 else ''}"
    st.caption(f"You draw against the presenter's {shared.config.model} model ({epochs} of training).")


def _read(room: Room, data_url: str | None, size: int) -> tuple[Reading | None, str, bool]:
    """The shared model's reading of the canvas, or why there is none and whether it was refused."""
    if data_url is None:
        return None, "Draw a digit on the black square.", False
    try:
        pixels = read_canvas_png(data_url, size, size)
    except CanvasImageError as error:
        return None, str(error), True
    verdict = inspect_canvas(pixels, BACKGROUND)
    if verdict.status != CanvasStatus.DIGIT:
        return None, verdict.message, False
    return room.read(verdict.image), "", False


def _show_reading(reading: Reading | None, message: str, refused: bool) -> None:
    """The guess beside the 28×28 input; a refusal in red; otherwise one line (the digits stay in view)."""
    if refused:
        st.error(message)
    if reading is None:
        if not refused:
            st.caption(message)
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        st.image(enlarge(reading.image, INPUT_SCALE), caption="what the model sees", output_format=PICTURE_FORMAT)
        st.metric(
            "The model reads",
            reading.guess,
            f"probability {reading.probabilities.max():.2f}",
            delta_color="off",
            delta_arrow="off",
        )


def _show_probabilities(reading: Reading) -> None:
    cap = preset(reading.model.config.model).probability_cap
    figure = charts.probability_chart(reading.probabilities, cap, title="", height=CHART_HEIGHT, bar_labels=False)
    show_chart(figure, "room_chart", static=True)


def _digit_buttons(room: Room, reading: Reading | None) -> None:
    st.markdown("**Which digit did you draw?** A tap sends it to the wall.")
    with st.container(key=style.ROOM_DIGITS_KEY):
        for row in ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9)):
            with st.container(horizontal=True, gap="small"):
                for digit in row:
                    st.button(
                        str(digit),
                        key=f"meant_{digit}",
                        width="stretch",
                        disabled=reading is None,
                        on_click=_send,
                        args=(room, digit),
                    )
    st.button("Clear the canvas", key="room_clear", on_click=_new_canvas)


def _show_sent(room: Room) -> None:
    if st.session_state.get("room_problem"):
        st.error(st.session_state.room_problem)
    sent = st.session_state.get("room_sent")
    if sent is None:
        return
    _, digit, guess = sent
    verdict = "and the model read it right" if digit == guess else f"and the model read {guess}"
    st.success(f"Sent: you drew a {digit} {verdict}. Draw another one!")
    st.button("Take it back (wrong digit?)", key="room_take_back", on_click=_take_back, args=(room,))
