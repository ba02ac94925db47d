"""The page's own CSS, beside Streamlit's theme in .streamlit/config.toml, and presentation mode's."""

from __future__ import annotations

import streamlit as st

# Streamlit animates every change of a progress bar's width; during a run both bars change at every
# poll and each animation costs the browser CPU that the training beside it needs (README, "Speed of
# the app"). The bars jump to the new value instead.
STILL_PROGRESS_BARS_CSS = (
    "<style>[data-testid='stProgress'] * { transition: none !important; animation: none !important; }</style>"
)

# Presentation mode, for a projector (README, "Preparing a talk"). The light theme stays: a projector's
# black is grey, so dark text on white keeps the most contrast in a lit room. The main area's text
# grows (the sidebar's stays, or its buttons would not fit), grey text turns black, and the empty band
# above the tabs goes to the content; the transparent header over it must not swallow clicks there.
PRESENTATION_CSS = """<style>
[data-testid='stMainBlockContainer'] { padding: 1.5rem 1.5rem 1rem 1.5rem; max-width: none; }
[data-testid='stHeader'] { pointer-events: none; }
[data-testid='stHeader'] * { pointer-events: auto; }
[data-testid='stMain'] [data-testid='stMarkdownContainer']:not([data-testid='stMetricValue'] *) :is(p, li) {
  font-size: 1.2rem;
}
[data-testid='stMain'] [data-testid='stMetricValue'] { font-size: 2.6rem; }
[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] *, [data-testid='stWidgetLabel'] p {
  color: #000 !important;
}
button[role='tab'] p { font-size: 1.25rem; font-weight: 600; }
</style>"""


def apply(presenting: bool) -> None:
    st.html(STILL_PROGRESS_BARS_CSS)  # style only: Streamlit gives it no space on the page
    if presenting:
        st.html(PRESENTATION_CSS)


ROOM_SIDE_PADDING_PX = 12  # the room page's side margins: the canvas takes the rest of a phone's width
ROOM_CANVAS_KEY = "room_canvas"  # every canvas of the room page has a key starting so
ROOM_DIGITS_KEY = "meant"  # the container of the ten digit buttons

# The room page, on phones: a finger on the canvas draws, it does not scroll or zoom the page
# (fabric.js already sets `touch-action: none` on its own canvas; the component's box and its margins
# get it too, and no long-press callout or text selection either). The page does not bounce or pull
# to refresh past its ends (a reload mid-drawing would lose the drawing). Narrow side margins give
# the canvas the screen's width; the guess is in big type.
ROOM_CSS = f"""<style>
html, body, [data-testid="stMain"], [data-testid="stAppViewContainer"] {{ overscroll-behavior: none; }}
.block-container {{ padding: 1rem {ROOM_SIDE_PADDING_PX}px 2rem {ROOM_SIDE_PADDING_PX}px !important; }}
[class*="st-key-{ROOM_CANVAS_KEY}"] {{
  touch-action: none; -webkit-user-select: none; user-select: none; -webkit-touch-callout: none;
}}
[data-testid="stMetricValue"] {{ font-size: 3.6rem; line-height: 1; }}
.st-key-{ROOM_DIGITS_KEY} button {{ min-height: 3rem; font-size: 1.4rem; }}
</style>"""


def apply_room() -> None:
    st.html(ROOM_CSS)
