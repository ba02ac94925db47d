"""The canvas and the pen: where a drawing lands on the app's 280×280 canvas, and round-pen ink,
anti-aliased like the browser's canvas (drawn at twice the size, then shrunk), white on black.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

CANVAS_SIZE = 280  # the app's canvas
SUPERSAMPLE = 2


def place(
    strokes: list[np.ndarray], size: float, pen: float, jitter: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Scale strokes (lists of (x, y) points) so the longest side of the whole drawing is `size`
    canvas pixels, add pen-position noise, and put the drawing at a random place where all its ink
    (the pen's width included) is on the canvas; centred when it cannot fit."""
    joined = np.concatenate(strokes)
    joined = (joined - joined.min(axis=0)) * (size / np.ptp(joined, axis=0).max())
    if jitter:
        joined = joined + rng.normal(scale=jitter, size=joined.shape)
    low, high = joined.min(axis=0) - pen / 2, joined.max(axis=0) + pen / 2
    fits = (high - low).max() < CANVAS_SIZE
    joined = joined + (rng.uniform(-low, CANVAS_SIZE - high) if fits else (CANVAS_SIZE - low - high) / 2)
    return np.split(joined, np.cumsum([len(stroke) for stroke in strokes])[:-1])


def ink(paint: Callable[[ImageDraw.ImageDraw], None]) -> np.ndarray:
    """RGBA canvas pixels (280, 280, 4) uint8 of what `paint` draws on a fresh canvas."""
    big = CANVAS_SIZE * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    paint(ImageDraw.Draw(canvas))
    grey = np.asarray(canvas.resize((CANVAS_SIZE, CANVAS_SIZE), Image.Resampling.BOX))
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def pen_line(draw: ImageDraw.ImageDraw, points: np.ndarray, widths: np.ndarray | float) -> None:
    """A round pen along a polyline (N, 2) in canvas pixels, `widths` (one, or one per point) wide."""
    steps = np.arange(len(points) - 1)
    pen_graph(draw, points, np.stack([steps, steps + 1], axis=1), widths)


def pen_graph(draw: ImageDraw.ImageDraw, points: np.ndarray, edges: np.ndarray, widths: np.ndarray | float) -> None:
    """A round pen along every edge (pairs of indices into `points`, canvas pixels), `widths` (one, or
    one per point) wide."""
    xy = np.asarray(points, dtype=float) * SUPERSAMPLE
    radii = np.broadcast_to(np.asarray(widths, dtype=float), (len(xy),)) * SUPERSAMPLE / 2
    for start, end in edges:
        draw.line([tuple(xy[start]), tuple(xy[end])], fill=255, width=max(1, round(radii[start] + radii[end])))
    for (x, y), radius in zip(xy, radii, strict=True):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
