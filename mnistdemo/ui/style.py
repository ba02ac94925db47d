"""The page's own CSS, beside Streamlit's theme in .streamlit/config.toml."""

from __future__ import annotations

import streamlit as st

# Streamlit animates every change of a progress bar's width; during a run both bars change at every
# poll and each animation costs the browser CPU that the training beside it needs (README, "Speed of
# the app"). The bars jump to the new value instead.
STILL_PROGRESS_BARS_CSS = (
    "<style>[data-testid='stProgress'] * { transition: none !important; animation: none !important; }</style>"
)


def apply() -> None:
    st.html(STILL_PROGRESS_BARS_CSS)  # style only: Streamlit gives it no space on the page
