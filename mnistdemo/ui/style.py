"""The page's own CSS, beside Streamlit's theme in .streamlit/config.toml, and presentation mode's."""

from __future__ import annotations

import streamlit as st

# Streamlit animates every change of a progress bar's width; during a run both bars change at every
# poll and each animation costs the browser CPU that the training beside it needs (README, "Speed of
# the app"). The bars jump to the new value instead.
STILL_PROGRESS_BARS_CSS = (
    "<style>[data-testid='stProgress'] * { transition: none !important; animation: none !important; }</style>"
)

# Presentation mode, for a projector (README, "Preparing a talk"): the light theme stays (a projector's
# black is grey, so dark text on white keeps the most contrast in a lit room); type grows, grey text
# turns black, and the space above the page goes to the content.
PRESENTATION_CSS = """<style>
html { font-size: 21px; }
[data-testid='stMainBlockContainer'] { padding-top: 3.2rem; padding-bottom: 1rem; max-width: none; }
[data-testid='stSidebarContent'] [data-testid='stSidebarHeader'] { height: 2.5rem; }
[data-testid='stCaptionContainer'], [data-testid='stWidgetLabel'] p, .stTabs button p { color: #000 !important; }
.stTabs button p { font-size: 1.15rem; font-weight: 600; }
[data-testid='stMetricValue'] { font-size: 2.6rem; }
</style>"""


def apply(presenting: bool) -> None:
    st.html(STILL_PROGRESS_BARS_CSS)  # style only: Streamlit gives it no space on the page
    if presenting:
        st.html(PRESENTATION_CSS)
