"""How the page shows a plotly figure built by `mnistdemo.charts`: larger in presentation mode, with
one button (on hover) that downloads it as a PNG, title included."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from .. import charts
from . import state

PNG_SCALE = 2  # pixels per screen pixel: sharp on a slide


def plotly_config(key: str) -> dict:
    """Only the download button, shown while the pointer is over the chart: nothing else to explain."""
    return {
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": f"mnistdemo-{key}", "scale": PNG_SCALE},
    }


def show_chart(figure: go.Figure, key: str) -> None:
    if state.presenting():
        charts.for_wall(figure)
    st.plotly_chart(figure, key=key, theme=None, config=plotly_config(key))
