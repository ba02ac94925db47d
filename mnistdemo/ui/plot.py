"""How the page shows a plotly figure built by `mnistdemo.charts`."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

PLOTLY_CONFIG = {"displayModeBar": False}  # no toolbar over the charts on a projected screen


def show_chart(figure: go.Figure, key: str) -> None:
    st.plotly_chart(figure, key=key, theme=None, config=PLOTLY_CONFIG)
