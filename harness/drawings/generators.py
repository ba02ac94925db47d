"""Four independent ways to make canvas drawings of MNIST digits, each with the hand as a choice.

- skeleton: each digit's skeleton re-drawn with a round pen of random width, at a random size and place.
- strokes: the skeleton traced into strokes and drawn as a mouse or finger reports them: corners
  overshot, points spaced by the speed, a finger's width changing with it, joined by the canvas's curves.
- elastic: the digit first warped elastically (Simard et al. 2003), then drawn as `skeleton` does.
- extremes: drawn as `skeleton` does, at sizes and pen widths outside its ranges: tiny or filling the
  canvas, with a hairline or a fat marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .hand import Hand, elastic_warp, move
from .pen import CANVAS_SIZE, ink, pen_graph, pen_line, place
from .pointer import WIDTH_CHANGE, finger_widths, overshoot_corners, pointer_events, quadratic_midpoints
from .skeleton import skeleton_graph, trace_strokes

# the skeleton generator's ranges, canvas pixels: the digit's longest side, and the pen's width (at
# most a fifth of that side)
SIZES = (60, 260)
PENS = (3, 32)
MAX_PEN_SHARE = 0.2
# the extremes generator's: ink spanning a tiny or nearly the whole canvas, a hairline or a fat pen
TINY_INK = (20, 50)
HUGE_INK = (250, 280)
HAIRLINE = (1, 2.5)
FAT_SHARE = (0.15, 0.25)  # pen width as a share of the digit's longest side
SPEED = (2, 8)  # the hand's fastest, in the digit's longest side per second
FILLED = 0.5  # 28×28 pixels: ink wider than the digit's usual stroke by more than this is filled in (strokes)


class Drawing(NamedTuple):
    canvas: np.ndarray  # RGBA (280, 280, 4) uint8, white on black
    source: np.ndarray  # the 28×28 digit that was drawn (for `elastic`, the warped digit)


def usual_size_and_pen(rng: np.random.Generator) -> tuple[float, float]:
    size = rng.uniform(*SIZES)
    return size, min(rng.uniform(*PENS), MAX_PEN_SHARE * size)


def extreme_size_and_pen(rng: np.random.Generator) -> tuple[float, float]:
    """Tiny or huge, with a hairline or a fat pen, each half the time."""
    huge, fat = rng.random(2) < 0.5
    share = rng.uniform(*FAT_SHARE) if fat else 0.0
    extent = rng.uniform(*(HUGE_INK if huge else TINY_INK))  # the ink's, pen included
    pen = extent * share / (1 + share) if fat else rng.uniform(*HAIRLINE)
    return extent - pen, pen


def _pens(widths: np.ndarray, pen: float, scale: float) -> np.ndarray:
    """The pen's width at each skeleton point: where the digit's ink is wider than its usual stroke (a
    filled loop, a blot), wider by as much, so that filled parts stay filled: a skeleton alone would
    turn a filled 8 into a 9. `scale`: canvas pixels per 28×28 pixel."""
    return pen + np.maximum(0.0, widths - np.median(widths)) * scale


def _fitting_size(size: float, pen: float, widths: np.ndarray, moved: np.ndarray) -> float:
    """`size`, or less if the drawing's ink, filled parts included, would not fit on the canvas."""
    extent = np.ptp(moved, axis=0).max()
    excess = np.maximum(0.0, widths - np.median(widths)).max()
    return min(size, (CANVAS_SIZE - 2 - pen) / (1 + excess / extent))


def skeleton_drawing(
    digit: np.ndarray,
    hand: Hand,
    rng: np.random.Generator,
    size_and_pen: Callable[[np.random.Generator], tuple[float, float]] = usual_size_and_pen,
) -> Drawing:
    points, edges, widths = skeleton_graph(digit)
    moved = move(points, hand, rng)
    size, pen = size_and_pen(rng)
    size = _fitting_size(size, pen, widths, moved)
    pens = _pens(widths, pen, size / np.ptp(moved, axis=0).max())
    (placed,) = place([moved], size, pens.max(), hand.jitter, rng)
    return Drawing(ink(lambda draw: pen_graph(draw, placed, edges, pens)), digit)


def stroke_drawing(digit: np.ndarray, hand: Hand, rng: np.random.Generator) -> Drawing:
    strokes = [overshoot_corners(stroke, rng) for stroke in trace_strokes(digit)]
    points, _, widths = skeleton_graph(digit)
    filled = widths > np.median(widths) + FILLED  # scribbled full after the strokes
    parts = [*strokes, points[filled]]
    moved = move(np.concatenate(parts), hand, rng)
    size, pen = usual_size_and_pen(rng)
    size = _fitting_size(size, pen, widths, moved)
    fill_widths = _pens(widths, pen, size / np.ptp(moved, axis=0).max())[filled]
    margin = np.max(fill_widths, initial=pen)
    *placed, fill_points = place(np.split(moved, np.cumsum([len(part) for part in parts])[:-1]), size, margin, 0.0, rng)
    peak_speed = size * rng.uniform(*SPEED)
    width_change = rng.uniform(0, WIDTH_CHANGE)  # 0: a mouse's constant line
    lines = []
    for stroke in placed:
        events, speed = pointer_events(stroke, size, peak_speed)
        if hand.jitter:
            events = events + rng.normal(scale=hand.jitter, size=events.shape)
        lines.append(quadratic_midpoints(events, finger_widths(speed, pen, peak_speed, width_change)))

    def paint(draw) -> None:
        for line, line_widths in lines:
            pen_line(draw, line, line_widths)
        pen_graph(draw, fill_points, np.empty((0, 2), int), fill_widths)

    return Drawing(ink(paint), digit)


def elastic_drawing(digit: np.ndarray, hand: Hand, rng: np.random.Generator) -> Drawing:
    return skeleton_drawing(elastic_warp(digit, rng), hand, rng)


def extremes_drawing(digit: np.ndarray, hand: Hand, rng: np.random.Generator) -> Drawing:
    return skeleton_drawing(digit, hand, rng, extreme_size_and_pen)


@dataclass(frozen=True)
class Generator:
    name: str
    draw: Callable[[np.ndarray, Hand, np.random.Generator], Drawing]


GENERATORS = {
    generator.name: generator
    for generator in (
        Generator("skeleton", skeleton_drawing),
        Generator("strokes", stroke_drawing),
        Generator("elastic", elastic_drawing),
        Generator("extremes", extremes_drawing),
    )
}
