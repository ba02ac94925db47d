"""A stroke as a mouse or a finger reports it: the pen overshoots sharp corners, slows in curves and
at the ends, the browser samples its position at a fixed rate (so points lie far apart where it is
fast), a finger's line is thinner where it moves fast, and the canvas (fabric.js's pencil brush)
joins the points with quadratic curves through their midpoints.
"""

from __future__ import annotations

import numpy as np

EVENT_RATE = 60.0  # pointer events per second: browsers deliver about one per frame
CORNER_ANGLE = np.radians(60)  # a turn sharper than this within one 28×28 pixel is a corner
CORNER_SPAN = 1.0  # 28×28 pixels before and after a point that judge its turn
OVERSHOOT = (0.3, 1.0)  # how far the pen runs past a corner, 28×28 pixels
RAMP = 0.15  # share of a stroke over which the pen speeds up at its start and slows down at its end
SLOWEST = 0.15  # the speed at a stroke's very ends, a share of its peak
CURVE_RADIUS = 0.25  # curves tighter than this share of the digit's size slow the pen (two-thirds power law)
WIDTH_CHANGE = 0.3  # a finger's line: this much wider at rest and this much thinner at full speed
CURVE_STEPS = 8  # points per quadratic curve when drawn


def _resample(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """The polyline with points `spacing` apart along it (its ends kept)."""
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))])
    if along[-1] <= spacing:
        return stroke[[0, -1]]
    steps = np.linspace(0, along[-1], int(np.ceil(along[-1] / spacing)) + 1)
    return np.stack([np.interp(steps, along, stroke[:, axis]) for axis in range(2)], axis=1)


def _turn(points: np.ndarray, span: int) -> np.ndarray:
    """The angle between the way in and the way out at each point, over `span` points each side."""
    angles = np.zeros(len(points))
    for index in range(span, len(points) - span):
        inward = points[index] - points[index - span]
        outward = points[index + span] - points[index]
        cosine = inward @ outward / (np.linalg.norm(inward) * np.linalg.norm(outward) + 1e-9)
        angles[index] = np.arccos(np.clip(cosine, -1, 1))
    return angles


def overshoot_corners(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The stroke (28×28 pixel units) with the pen running on past each sharp corner before it turns,
    rejoining the stroke as far past the corner as it overshot."""
    spacing = 0.25
    points = _resample(stroke, spacing)
    span = round(CORNER_SPAN / spacing)
    turn = _turn(points, span)
    corners = []
    for index in np.argsort(-turn):  # the sharpest first; a corner's neighbours are the same corner
        if turn[index] < CORNER_ANGLE:
            break
        if all(abs(index - corner) > 2 * span for corner in corners):
            corners.append(index)
    for corner in sorted(corners, reverse=True):  # from the end, so earlier indices stay valid
        distance = rng.uniform(*OVERSHOOT)
        heading = points[corner] - points[corner - span]
        beyond = points[corner] + heading / np.linalg.norm(heading) * distance
        rejoin = min(len(points) - 1, corner + round(distance / spacing))
        points = np.concatenate([points[: corner + 1], beyond[None], points[rejoin:]])
    return points


def pointer_events(stroke: np.ndarray, size: float, peak_speed: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the pointer was at each event (M, 2) and how fast it moved there (M,), for a stroke in
    canvas pixels drawn by a hand whose fastest is `peak_speed` pixels a second."""
    path = _resample(stroke, 1.0)
    if len(path) < 3:
        return path, np.full(len(path), peak_speed * SLOWEST)
    along = np.arange(len(path)) * np.linalg.norm(path[1] - path[0])
    length = along[-1]
    ramp = np.minimum(along, length - along) / (RAMP * length)
    envelope = np.clip(ramp, SLOWEST**2, 1) ** 0.5
    span = 3
    turn_per_px = np.maximum(_turn(path, span) / (2 * span * (along[1] - along[0])), 1e-6)
    curvature_slowdown = np.minimum(1, (1 / turn_per_px / (CURVE_RADIUS * size)) ** (1 / 3))
    speed = peak_speed * np.maximum(envelope * curvature_slowdown, SLOWEST)
    time = np.concatenate([[0.0], np.cumsum(np.diff(along) / speed[1:])])
    events = np.append(np.arange(0, time[-1], 1 / EVENT_RATE), time[-1])
    positions = np.stack([np.interp(events, time, path[:, axis]) for axis in range(2)], axis=1)
    return positions, np.interp(events, time, speed)


def finger_widths(speed: np.ndarray, pen: float, peak_speed: float, change: float) -> np.ndarray:
    """Line width at each event: wider where the finger is slow, thinner where it is fast."""
    return pen * (1 + change * (1 - 2 * speed / peak_speed))


def quadratic_midpoints(points: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve fabric.js's pencil brush draws through its points: from each midpoint to the next
    with the point between them as the control point; `values` (one per point) follow along."""
    if len(points) < 3:
        return points, values
    middles = (points[1:] + points[:-1]) / 2
    middle_values = (values[1:] + values[:-1]) / 2
    t = np.linspace(0, 1, CURVE_STEPS + 1)[1:, None]
    curve, curve_values = [points[:1]], [values[:1]]
    start, start_value = points[0], values[0]
    for index in range(1, len(points) - 1):
        control, end = points[index], middles[index]
        curve.append((1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end)
        curve_values.append(np.interp(t[:, 0], [0, 1], [start_value, middle_values[index]]))
        start, start_value = end, middle_values[index]
    curve.append(points[-1:])
    curve_values.append(values[-1:])
    return np.concatenate(curve), np.concatenate(curve_values)
