"""Charts: plotly figures built from plain data, sized to be read on a projected wall.

Pure functions: they take numbers and return figures, and know nothing of Streamlit or training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import plotly.graph_objects as go

FONT_SIZE = 18
CHART_HEIGHT = 460
LOSS_SMOOTHING_WINDOW = 20  # batches in the running mean of the batch loss
CAP_LABEL_GAP = 0.06  # probability units between the ceiling line and its label: room for the bar labels
MAX_BATCH_POINTS = 300  # a smoothed curve needs no more, and the page redraws it every poll

BLUE = "#1f5fbf"
ORANGE = "#e8710a"
GREY = "#9aa5b1"
GREEN = "#188038"
RED = "#d93025"
GRID = "#e3e8ef"
AXIS = "#9aa5b1"


class EpochPoint(Protocol):
    """One finished epoch, as `mnistdemo.training.EpochResult` reports it."""

    epoch: int
    loss: float
    train_acc: float
    test_acc: float


def figure(
    traces: list,
    title: str,
    x_title: str,
    y_title: str,
    x_axis: dict | None = None,
    y_axis: dict | None = None,
    annotations: Sequence[dict] = (),
    shapes: Sequence[dict] = (),
    showlegend: bool = True,
    height: int = CHART_HEIGHT,
    layout_changes: dict | None = None,
) -> go.Figure:
    """One figure in one constructor call: plotly's later `update_*` calls and its templates each
    cost more than building the whole chart, and the page rebuilds the charts on every poll.
    `layout_changes` replace whole entries of the layout (height, margin, ...)."""
    axis = {"gridcolor": GRID, "linecolor": AXIS, "zeroline": False}
    layout = {
        "title": {"text": title, "font": {"size": FONT_SIZE + 4}},
        "font": {"size": FONT_SIZE},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60 if title else 20, "b": 110 if showlegend else 60},
        "template": "none",
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": showlegend,
        # below the axis title: beside the chart's title it overlaps it on narrow screens
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.28, "xanchor": "center", "x": 0.5},
        "hoverlabel": {"font": {"size": FONT_SIZE}},
        "xaxis": {**axis, "title": {"text": x_title}, **(x_axis or {})},
        "yaxis": {**axis, "title": {"text": y_title}, **(y_axis or {})},
        "annotations": list(annotations),
        "shapes": list(shapes),
        **(layout_changes or {}),
    }
    return go.Figure(data=traces, layout=layout)


def placeholder(text: str) -> dict:
    return {
        "text": text,
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "font": {"size": FONT_SIZE, "color": GREY},
    }


def _epoch_ticks(last_epoch: float) -> dict:
    """Whole epochs on the x-axis, at most about ten ticks."""
    return {"tick0": 0, "dtick": max(1, math.ceil(last_epoch / 10)), "range": [0, max(1.0, last_epoch) * 1.02]}


def smooth_batch_losses(
    batch_losses: np.ndarray,
    window: int = LOSS_SMOOTHING_WINDOW,
    max_points: int = MAX_BATCH_POINTS,
) -> tuple[np.ndarray, np.ndarray]:
    """(fractional epoch, loss) rows (N, 2) -> x and the mean loss of the last `window` batches (fewer at
    the start, so the curve begins where training began), thinned to `max_points`, keeping the last
    point so that the curve always reaches the batch just trained."""
    points = np.asarray(batch_losses, dtype=np.float64).reshape(-1, 2)
    if not len(points):
        return np.empty(0), np.empty(0)
    x, losses = points[:, 0], points[:, 1]
    totals = np.concatenate([[0.0], np.cumsum(losses)])
    ends = np.arange(1, len(losses) + 1)
    starts = np.maximum(0, ends - window)
    smoothed = (totals[ends] - totals[starts]) / (ends - starts)
    if len(x) > max_points:
        keep = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
        x, smoothed = x[keep], smoothed[keep]
    return x, smoothed


def loss_chart(history: Sequence[EpochPoint], batch_losses: np.ndarray) -> go.Figure:
    """Loss against epochs: the smoothed loss of every batch, and the whole training set's mean loss
    after each epoch. The batch curve fills the first epoch, before any epoch has finished."""
    batch_x, batch_y = smooth_batch_losses(batch_losses)
    epochs = [result.epoch for result in history]
    traces = [
        go.Scatter(
            x=batch_x,
            y=batch_y,
            name="per batch (smoothed)",
            mode="lines",
            line={"color": GREY, "width": 2},
            hovertemplate="epoch %{x:.2f}<br>batch loss %{y:.4f}<extra></extra>",
        ),
        go.Scatter(
            x=epochs,
            y=[result.loss for result in history],
            name="per epoch (training set)",
            mode="lines+markers",
            line={"color": BLUE, "width": 3},
            marker={"size": 9},
            hovertemplate="epoch %{x}<br>mean loss %{y:.4f}<extra></extra>",
        ),
    ]
    last_epoch = max(epochs + batch_x.tolist(), default=0.0)
    empty = not len(batch_x) and not history
    return figure(
        traces,
        "Loss",
        "epoch",
        "cross-entropy loss",
        x_axis=_epoch_ticks(last_epoch),
        annotations=[placeholder("Press Train: the loss appears here")] if empty else [],
    )


def accuracy_chart(history: Sequence[EpochPoint]) -> go.Figure:
    """Training and test accuracy (percent) after each epoch."""
    epochs = [result.epoch for result in history]
    traces = [
        go.Scatter(
            x=epochs,
            y=values,
            name=name,
            mode="lines+markers",
            line={"color": color, "width": 3},
            marker={"size": 9},
            hovertemplate=f"epoch %{{x}}<br>{name} accuracy %{{y:.2f}} %<extra></extra>",
        )
        for name, values, color in (
            ("train", [result.train_acc for result in history], ORANGE),
            ("test", [result.test_acc for result in history], BLUE),
        )
    ]
    if history:
        return figure(traces, "Accuracy", "epoch", "accuracy (%)", x_axis=_epoch_ticks(max(epochs)))
    return figure(
        traces,
        "Accuracy",
        "epoch",
        "accuracy (%)",
        x_axis=_epoch_ticks(0),
        y_axis={"range": [0, 100]},
        annotations=[placeholder("Accuracy appears after the first epoch")],
    )


def bar_colors(probabilities: Sequence[float], true_label: int | None = None) -> list[str]:
    """Grey bars; the top guess blue, or green when it is right and red when it is wrong; the true
    label green."""
    top = int(np.argmax(probabilities))
    colors = [GREY] * len(probabilities)
    if true_label is None:
        colors[top] = BLUE
        return colors
    colors[top] = GREEN if top == true_label else RED
    colors[true_label] = GREEN
    return colors


def probability_chart(
    probabilities: Sequence[float],
    cap: float | None = None,
    true_label: int | None = None,
    title: str = "What the model thinks",
    height: int = CHART_HEIGHT,
    bar_labels: bool = True,
) -> go.Figure:
    """Bars of the probability of each digit 0-9 on a fixed 0-1 scale.

    `cap`: the highest probability the model can give (the seed model's e/(e+9)), drawn as a dashed
    line so that short bars read as the model's ceiling rather than as doubt. `bar_labels`: each
    bar's value above it (too wide for a phone's narrow bars).
    """
    values = [float(p) for p in probabilities]
    if len(values) != 10:
        raise ValueError(f"need 10 probabilities, one per digit, got {len(values)}")
    bars = go.Bar(
        x=[str(digit) for digit in range(10)],
        y=values,
        marker_color=bar_colors(values, true_label),
        text=[f"{value:.2f}" for value in values] if bar_labels else None,
        textposition="outside",
        cliponaxis=False,
        hovertemplate="digit %{x}<br>probability %{y:.3f}<extra></extra>",
    )
    shapes, annotations = [], []
    if cap is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": cap,
                "y1": cap,
                "line": {"dash": "dash", "color": RED, "width": 2},
            }
        )
        # just above the line, clear of the bar labels (no bar passes the cap); short enough for the
        # narrow chart beside a test digit
        annotations.append(
            {
                "text": f"ceiling e/(e+9) ≈ {cap:.2f}",
                "showarrow": False,
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "yref": "y",
                "y": cap + CAP_LABEL_GAP,
                "yanchor": "bottom",
                "font": {"size": FONT_SIZE - 2, "color": RED},
            }
        )
    return figure(
        [bars],
        title,
        "digit",
        "probability",
        x_axis={"type": "category"},
        y_axis={"range": [0, 1.08], "dtick": 0.2},
        annotations=annotations,
        shapes=shapes,
        showlegend=False,
        height=height,
    )


# Okabe and Ito's colours, told apart with every kind of colour vision (their yellow is too pale on white)
RUN_COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000")
RUN_DASHES = ("solid", "dash", "dot")  # after the colours run out


def comparison_chart(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    title: str,
    y_title: str,
    y_format: str = ".4f",
    empty_text: str = "Tick runs to compare them",
) -> go.Figure:
    """One line per run, (legend, epochs, values), each in its own colour (then dash) on shared axes."""
    traces = [
        go.Scatter(
            x=list(x),
            y=list(y),
            name=name,
            mode="lines+markers" if len(x) <= 30 else "lines",
            line={
                "color": RUN_COLORS[i % len(RUN_COLORS)],
                "dash": RUN_DASHES[i // len(RUN_COLORS) % len(RUN_DASHES)],
                "width": 3,
            },
            marker={"size": 8},
            hovertemplate=f"{name}<br>epoch %{{x:.2f}}<br>{y_title} %{{y:{y_format}}}<extra></extra>",
        )
        for i, (name, x, y) in enumerate(series)
    ]
    last_epoch = max((max(x) for _, x, _ in series if len(x)), default=0.0)
    return figure(
        traces,
        title,
        "epoch",
        y_title,
        x_axis=_epoch_ticks(last_epoch),
        annotations=[] if series else [placeholder(empty_text)],
    )


def lr_finder_chart(
    rates: Sequence[float], losses: Sequence[float], smoothed: Sequence[float], suggested: float | None
) -> go.Figure:
    """Loss against the learning rate on a log axis, and the suggested rate as a dashed line."""
    traces = [
        go.Scatter(
            x=list(rates),
            y=list(values),
            name=name,
            mode="lines",
            line={"color": color, "width": width},
            hovertemplate=f"lr %{{x:.1e}}<br>{name} %{{y:.3f}}<extra></extra>",
        )
        for name, values, color, width in (("batch loss", losses, GREY, 1.5), ("smoothed", smoothed, BLUE, 3))
    ]
    finite = [value for value in smoothed if math.isfinite(value)]
    # past 2.5 times its lowest the loss has run away: the axis stops there, so the dip stays readable
    top = max(max(finite[:5], default=0.0), 2.5 * min(finite)) if finite else None
    if suggested is not None and top is not None:
        traces.append(
            go.Scatter(
                x=[suggested, suggested],
                y=[0, top],
                name=f"suggested {suggested:.0e}".replace("e-0", "e-"),
                mode="lines",
                line={"color": GREEN, "width": 3, "dash": "dash"},
                hoverinfo="name",
            )
        )
    return figure(
        traces,
        "Learning-rate finder",
        "learning rate (log scale)",
        "loss",
        x_axis={"type": "log", "dtick": 1, "exponentformat": "power"},
        y_axis={"range": [0, top]} if top else None,
    )


WALL_SCALE = 1.25  # type, lines and markers on a projected wall


def for_wall(figure: go.Figure) -> go.Figure:
    """The same chart for a projected wall: larger type, thicker lines and markers (the height stays:
    a 720-pixel wall has no more room). Changes `figure` in place and returns it."""

    def larger(size: float | None, default: float) -> float:
        return round((size or default) * WALL_SCALE, 1)

    layout = figure.layout
    margin = layout.margin
    figure.update_layout(
        margin={"l": larger(margin.l, 0), "t": larger(margin.t, 0)},  # room for the larger ticks and title
        font_size=larger(layout.font.size, FONT_SIZE),
        title_font_size=larger(layout.title.font.size, FONT_SIZE + 4),
        hoverlabel_font_size=larger(layout.hoverlabel.font.size, FONT_SIZE),
    )
    for annotation in layout.annotations:
        annotation.font.size = larger(annotation.font.size, FONT_SIZE)
    for trace in figure.data:
        if trace.type == "scatter":
            trace.line.width = larger(trace.line.width, 2)
            trace.marker.size = larger(trace.marker.size, 6)
        elif trace.type == "bar" and trace.text is not None:
            trace.textfont.size = larger(trace.textfont.size, FONT_SIZE)
    return figure
