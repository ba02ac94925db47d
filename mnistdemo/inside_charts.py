"""Charts of what a network learned and why it answers: the confusion matrix, each digit's accuracy,
and how steady an answer is. Pure plotly builders beside `charts`, in the same style.

Streamlit 1.67 reports clicks on scatter points (`st.plotly_chart(on_select=...)`), never on
heatmap cells (README, "Look inside"): the confusion matrix's cells carry transparent square markers
that take the clicks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .charts import AXIS, BLUE, FONT_SIZE, GREEN, GREY, GRID, ORANGE, RED, figure
from .explain import Sweep
from .inside import DIGITS

MATRIX_HEIGHT = 500
MATRIX_MARGIN = {"l": 70, "r": 10, "t": 120, "b": 20}
FULL_MISTAKE = 0.1  # a cell holding this share of its true digit's examples is full red
EMPTY = "#f5f7fa"
STEADINESS_ROW_HEIGHT = 330
STEADINESS_ROW_GAP = 0.2  # of the figure's height, between a row's x-axis title and the row below
ACCURACY_HEIGHT = 340
OTHER_DIGITS = "#c4ccd6"


def cell_of(point_index: int) -> tuple[int, int]:
    """(true digit, guess) of the confusion chart's click target `point_index` (row after row)."""
    return divmod(int(point_index), DIGITS)


def _shade(values: np.ndarray, colour: str) -> go.Heatmap:
    """Cells from the empty grey (0) to `colour` (1); NaN cells are left to another layer."""
    return go.Heatmap(
        z=values,
        zmin=0,
        zmax=1,
        colorscale=[[0, EMPTY], [1, colour]],
        showscale=False,
        xgap=2,
        ygap=2,
        hoverinfo="skip",
    )


def confusion_chart(matrix: np.ndarray, title: str = "Mistakes by class") -> go.Figure:
    """Counts (10, 10), row = true digit, column = guess: the diagonal green as deep as the share of
    that digit guessed right, mistakes red as deep as their share of the true digit (full at 10%).

    Drawn as heatmaps, which fill their cells at any size; on every cell a transparent square marker
    carries the count and takes hover and clicks (the nearest one, wherever the click lands), because
    Streamlit reports selections of scatter points only. Marker k is the cell `cell_of(k)`."""
    matrix = np.asarray(matrix)
    diagonal = np.eye(DIGITS, dtype=bool)
    shares = matrix / np.maximum(1, matrix.sum(axis=1, keepdims=True))
    depth = np.where(diagonal, shares, np.minimum(1, shares / FULL_MISTAKE))
    true, guess = np.divmod(np.arange(DIGITS * DIGITS), DIGITS)
    counts = matrix.ravel()
    targets = go.Scatter(
        x=guess,
        y=true,
        mode="markers+text",
        marker={"symbol": "square", "size": 20, "opacity": 0},
        text=[str(count) if count else "" for count in counts],
        textfont={"size": FONT_SIZE - 5, "color": np.where(depth.ravel() > 0.55, "white", "#111827").tolist()},
        customdata=np.stack([counts, np.where(true == guess, "right", "wrong")], axis=1),
        hovertemplate="true %{y} → predicted %{x}: %{customdata[0]} digits (%{customdata[1]})<extra></extra>",
        selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}, "textfont": {"color": "#111827"}},
    )
    ticks = {"tickmode": "array", "tickvals": list(range(DIGITS)), "showgrid": False, "zeroline": False}
    return figure(
        [_shade(np.where(diagonal, depth, np.nan), GREEN), _shade(np.where(diagonal, np.nan, depth), RED), targets],
        title,
        "the model's guess",
        "true digit",
        x_axis={**ticks, "range": [-0.5, DIGITS - 0.5], "side": "top", "constrain": "domain"},
        y_axis={**ticks, "range": [DIGITS - 0.5, -0.5], "scaleanchor": "x", "constrain": "domain"},
        showlegend=False,
        layout_changes={
            "height": MATRIX_HEIGHT,
            "margin": MATRIX_MARGIN,
            "title": {"text": title, "font": {"size": FONT_SIZE + 4}, "y": 1, "yanchor": "top", "pad": {"t": 10}},
            "hovermode": "closest",
            "hoverdistance": -1,  # every point in the chart is over some cell: the nearest target takes it
            "clickmode": "event+select",
            "dragmode": False,  # a drag would draw a box; a click selects one cell
        },
    )


def class_accuracy_chart(accuracy: Sequence[float], title: str = "Right, by true digit") -> go.Figure:
    """Percent of each digit guessed right, one bar per digit; the weakest digit in red."""
    values = np.asarray(accuracy, dtype=float)
    known = np.isfinite(values)
    colours = [GREEN if seen else GREY for seen in known]
    if known.any():
        colours[int(np.nanargmin(values))] = RED
    bars = go.Bar(
        x=[str(digit) for digit in range(DIGITS)],
        y=np.nan_to_num(values),
        marker_color=colours,
        text=[f"{value:.1f}" if seen else "–" for value, seen in zip(values, known, strict=True)],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="true %{x}: %{y:.2f} % guessed right<extra></extra>",
    )
    return figure(
        [bars],
        title,
        "true digit",
        "guessed right (%)",
        x_axis={"type": "category"},
        y_axis={"range": [0, 112], "tickvals": [0, 20, 40, 60, 80, 100]},
        showlegend=False,
        layout_changes={"height": ACCURACY_HEIGHT},
    )


def _panel_axes(panel: int) -> tuple[str, str]:
    """Plotly's names of a panel's axes, as traces refer to them: ('x', 'y'), ('x2', 'y2'), ..."""
    suffix = str(panel + 1) if panel else ""
    return f"x{suffix}", f"y{suffix}"


def steadiness_chart(sweeps: Sequence[Sweep], digits: Sequence[int], cap: float | None = None) -> go.Figure:
    """One panel per move, two to a row: the ten probabilities along it, `digits` (the top guess,
    then the one asked about) in blue and orange with their names at the line ends, the other eight
    thin and grey (one trace); the digit as it is marked at 0. One figure, so the page mounts one chart.
    `cap`: the model's ceiling, which fixes the y range."""
    top = (cap or 1.0) * 1.05
    highlighted = dict(zip(digits, (BLUE, ORANGE), strict=False))
    rows = -(-len(sweeps) // 2)
    traces, annotations, axes = [], [], {}
    for panel, sweep in enumerate(sweeps):
        x_name, y_name = _panel_axes(panel)
        row, column = divmod(panel, 2)
        bottom = 1 - (row + 1) / rows + STEADINESS_ROW_GAP * (row + 1 < rows)
        axes[f"xaxis{x_name[1:]}"] = {
            "domain": [0.0, 0.46] if column == 0 else [0.54, 1.0],
            "anchor": y_name,
            "title": {"text": sweep.move},
            "zeroline": True,
            "zerolinecolor": "#6b7785",
            "zerolinewidth": 2,
            "gridcolor": GRID,
            "linecolor": AXIS,
        }
        axes[f"yaxis{y_name[1:]}"] = {
            "domain": [bottom, 1 - row / rows],
            "anchor": x_name,
            "range": [0, top],
            "title": {"text": "probability" if column == 0 else ""},
            "gridcolor": GRID,
            "linecolor": AXIS,
        }
        x = [float(value) for value in sweep.values]
        ends = {digit: float(sweep.probabilities[-1, digit]) for digit in highlighted}
        apart = len(ends) == 2 and abs(np.subtract(*ends.values())) < 0.06 * top  # the labels would overlap
        # the other digits as one broken line: a chart mounts in time proportional to its traces
        others = [digit for digit in range(DIGITS) if digit not in highlighted]
        traces.append(
            go.Scatter(
                x=[value for _ in others for value in (*x, None)],
                y=[value for digit in others for value in (*sweep.probabilities[:, digit], None)],
                customdata=[digit for digit in others for _ in range(len(x) + 1)],
                xaxis=x_name,
                yaxis=y_name,
                mode="lines",
                line={"color": OTHER_DIGITS, "width": 1.5},
                name="other digits",
                hovertemplate="digit %{customdata}: %{y:.2f} at %{x:g}<extra></extra>",
            )
        )
        for digit, colour in highlighted.items():
            traces.append(
                go.Scatter(
                    x=x,
                    y=sweep.probabilities[:, digit],
                    xaxis=x_name,
                    yaxis=y_name,
                    mode="lines",
                    line={"color": colour, "width": 4},
                    name=str(digit),
                    hovertemplate=f"digit {digit}: %{{y:.2f}} at %{{x:g}}<extra></extra>",
                )
            )
            higher = ends[digit] >= max(ends.values())
            annotations.append(
                {
                    "x": x[-1],
                    "y": ends[digit],
                    "xref": x_name,
                    "yref": y_name,
                    "text": f" {digit}",
                    "showarrow": False,
                    "xanchor": "left",
                    "yshift": (9 if higher else -9) if apart else 0,
                    "font": {"size": FONT_SIZE, "color": colour},
                }
            )
    return figure(
        traces,
        "",
        sweeps[0].move,
        "probability",
        x_axis=axes.pop("xaxis"),
        y_axis=axes.pop("yaxis"),
        annotations=annotations,
        showlegend=False,
        layout_changes={
            "height": STEADINESS_ROW_HEIGHT * rows,
            "margin": {"l": 70, "r": 40, "t": 20, "b": 70},
            "font": {"size": FONT_SIZE - 2},
            **axes,
        },
    )
