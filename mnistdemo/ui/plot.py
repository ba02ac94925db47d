"""How the page shows a plotly figure (`mnistdemo.charts`) and a picture (`mnistdemo.weight_pictures`)."""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

PLOTLY_CONFIG = {"displayModeBar": False}  # no toolbar over the charts on a projected screen
# On a phone a chart that zooms and pans takes the finger: the page would not scroll past it.
STATIC_CONFIG = {**PLOTLY_CONFIG, "staticPlot": True}
PNG_COMPRESSION = 1  # half the time of Pillow's default level for 10% more bytes: pictures redrawn at every poll


def show_chart(figure: go.Figure, key: str, static: bool = False) -> None:
    st.plotly_chart(figure, key=key, theme=None, config=STATIC_CONFIG if static else PLOTLY_CONFIG)


def show_picture(picture: np.ndarray, caption: str | None = None) -> None:
    """An RGB picture (H, W, 3) uint8, stretched to the column's width."""
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG", compress_level=PNG_COMPRESSION)
    st.image(png.getvalue(), caption=caption, width="stretch")
