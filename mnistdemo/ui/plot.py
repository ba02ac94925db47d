"""How the page shows a plotly figure (`mnistdemo.charts`) and a picture (`mnistdemo.weight_pictures`):
charts larger in presentation mode, with one button (on hover) that downloads them as a PNG, title
included; on a phone, still."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from .. import charts
from . import state

PNG_SCALE = 2  # pixels per screen pixel: sharp on a slide
# On a phone a chart that zooms and pans takes the finger: the page would not scroll past it.
STATIC_CONFIG = {"displayModeBar": False, "staticPlot": True}
PNG_COMPRESSION = 1  # half the time of Pillow's default level for 10% more bytes: pictures redrawn at every poll
# Streamlit re-encodes a picture without transparency as JPEG unless told: blurred pixels, and a
# second encoding at every poll.
PICTURE_FORMAT = "PNG"


def plotly_config(key: str) -> dict:
    """Only the download button, shown while the pointer is over the chart: nothing else to explain."""
    return {
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": f"mnistdemo-{key}", "scale": PNG_SCALE},
    }


def show_chart(figure: go.Figure, key: str, static: bool = False, **selection: Any) -> None:
    """`selection`: `st.plotly_chart`'s on_select and selection_mode, for a chart that takes clicks."""
    if static:
        st.plotly_chart(figure, key=key, theme=None, config=STATIC_CONFIG)
        return
    if state.presenting():
        figure = charts.for_wall(go.Figure(figure))  # a copy: a page may keep a figure to show again
    st.plotly_chart(figure, key=key, theme=None, config=plotly_config(key), **selection)


def show_picture(picture: np.ndarray, caption: str | None = None) -> None:
    """An RGB picture (H, W, 3) uint8, stretched to the column's width."""
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG", compress_level=PNG_COMPRESSION)
    st.image(png.getvalue(), caption=caption, width="stretch", output_format=PICTURE_FORMAT)
