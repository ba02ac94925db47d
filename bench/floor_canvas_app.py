"""The latency floor for the Draw tab: a bare page with only the canvas and a bar chart of its pixels.

bench/bench_app.py times "release a stroke -> updated bar chart" here and in the app, in the same
run. Nothing else happens on a rerun, so what remains is Streamlit, the canvas component and plotly.
Run it alone with `streamlit run bench/floor_canvas_app.py`.
"""

import plotly.graph_objects as go
import streamlit as st
from streamlit_drawable_canvas import st_canvas

PEN_WIDTH = 18  # as in the app (mnistdemo/ui/draw_tab.py), so the canvas sends the same kind of image

canvas_column, chart_column = st.columns(2)
with canvas_column:
    result = st_canvas(
        stroke_width=PEN_WIDTH,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=280,
        width=280,
        return_image_data=True,
        key="canvas",
    )
pixels = result.image_data
bands = [0.0] * 10 if pixels is None else (pixels[..., 0] / 255).reshape(280, 10, 28).mean(axis=(0, 2)).tolist()
with chart_column:
    figure = go.Figure(go.Bar(x=list(range(10)), y=bands))
    figure.update_layout(xaxis_title="band of the canvas", yaxis_title="share of ink", height=320)
    st.plotly_chart(figure)
