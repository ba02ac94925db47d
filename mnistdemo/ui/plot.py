"""How the page shows a plotly figure built by `mnistdemo.charts`."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

PLOTLY_CONFIG = {"displayModeBar": False}  # no toolbar over the charts on a projected screen
# On a phone a chart that zooms and pans takes the finger: the page would not scroll past it.
STATIC_CONFIG = {**PLOTLY_CONFIG, "staticPlot": True}


def show_chart(figure: go.Figure, key: str, static: bool = False) -> None:
    st.plotly_chart(figure, key=key, theme=None, config=STATIC_CONFIG if static else PLOTLY_CONFIG)
