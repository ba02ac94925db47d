"""Synthetic canvas drawings made from MNIST digits, drawn the way a person draws on the app's canvas.

Each digit's strokes are recovered as its skeleton (scikit-image), then re-drawn with a round pen of
random width, at a random size and position, white on the black 280×280 canvas, anti-aliased like the
browser's canvas (drawn at twice the size and shrunk). The "mouse" style also rotates, shears and
stretches the digit and lets the hand wobble along the strokes.

Also what a hostile page can send instead of a drawing: `png_data_url` makes a PNG of any size
(a "canvas bomb") or bit depth without holding its pixels in memory.

scikit-image is a development dependency (requirements-dev.txt): the package never imports this.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from skimage.morphology import skeletonize

CANVAS_SIZE = 280  # the app's canvas
SUPERSAMPLE = 2  # draw at twice the size, then shrink: anti-aliased edges like the browser's
SKELETON_SCALE = 4  # skeletons of the digits upscaled 4× (112×112) follow the strokes smoothly
SKELETON_LEVEL = 0.5  # ink above this is stroke


@dataclass(frozen=True)
class DrawingStyle:
    """How a person draws: sizes in canvas pixels, angles in degrees."""

    name: str
    size: tuple[float, float] = (60, 260)  # the digit's longest side
    pen: tuple[float, float] = (3, 32)  # pen width, at most `max_pen_share` of the size
    max_pen_share: float = 0.2
    rotation: float = 0.0  # up to ± this
    shear: float = 0.0  # up to ± this (x moves by shear × y)
    stretch: float = 0.0  # aspect ratio changed by up to ± this share
    wobble: float = 0.0  # smooth hand wobble, up to this share of the size
    jitter: float = 0.0  # pen position noise, canvas pixels (standard deviation)


CANVAS = DrawingStyle("canvas")
MOUSE = DrawingStyle("mouse", rotation=20, shear=0.3, stretch=0.25, wobble=0.03, jitter=1.0)
STYLES = {style.name: style for style in (CANVAS, MOUSE)}


def skeleton_strokes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A digit's strokes as a graph: points (K, 2) as (x, y) in 28×28 pixel units, and edges (E, 2)
    joining 8-neighbouring skeleton pixels."""
    size = 28 * SKELETON_SCALE
    big = Image.fromarray(np.asarray(image, dtype=np.float32)).resize((size, size), Image.Resampling.BILINEAR)
    skeleton = skeletonize(np.asarray(big) >= SKELETON_LEVEL)
    rows, cols = np.nonzero(skeleton)
    index = np.full((size + 2, size + 2), -1)
    index[rows + 1, cols + 1] = np.arange(len(rows))
    edges = []
    for d_row, d_col in ((0, 1), (1, 0), (1, 1), (1, -1)):
        neighbour = index[rows + 1 + d_row, cols + 1 + d_col]
        found = neighbour >= 0
        edges.append(np.stack([np.flatnonzero(found), neighbour[found]], axis=1))
    points = (np.stack([cols, rows], axis=1) + 0.5) / SKELETON_SCALE
    return points, np.concatenate(edges)


def _hand(points: np.ndarray, style: DrawingStyle, rng: np.random.Generator) -> np.ndarray:
    """Rotate, shear, stretch and wobble the points about their centre (unit: 28×28 pixels)."""
    centred = points - points.mean(axis=0)
    angle = np.radians(rng.uniform(-style.rotation, style.rotation))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, rng.uniform(-style.shear, style.shear)], [0.0, 1.0]])
    aspect = 1 + rng.uniform(-style.stretch, style.stretch)
    stretch = np.diag([np.sqrt(aspect), 1 / np.sqrt(aspect)])
    moved = centred @ (rotation @ shear @ stretch).T
    if style.wobble:
        # a smooth displacement field: two random waves per axis, about one or two per digit
        extent = np.ptp(moved, axis=0).max()
        for axis in range(2):
            for _ in range(2):
                direction = rng.normal(size=2)
                frequency = rng.uniform(1, 2) * 2 * np.pi / extent
                phase = rng.uniform(0, 2 * np.pi)
                moved[:, axis] += (
                    style.wobble
                    / 2
                    * extent
                    * np.sin(frequency * moved @ direction / np.linalg.norm(direction) + phase)
                )
    return moved


def draw_digit(image: np.ndarray, style: DrawingStyle, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (28, 28) re-drawn on the canvas: RGBA (280, 280, 4) uint8, white on black."""
    points, edges = skeleton_strokes(image)
    moved = _hand(points, style, rng)
    size = rng.uniform(*style.size)
    pen = min(rng.uniform(*style.pen), style.max_pen_share * size)
    moved *= size / np.ptp(moved, axis=0).max()
    moved += rng.normal(scale=style.jitter, size=moved.shape) if style.jitter else 0.0
    low, high = moved.min(axis=0) - pen / 2, moved.max(axis=0) + pen / 2
    moved += (
        rng.uniform(-low, CANVAS_SIZE - high) if (high - low).max() < CANVAS_SIZE else (CANVAS_SIZE - low - high) / 2
    )

    big = CANVAS_SIZE * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    xy = moved * SUPERSAMPLE
    radius = pen * SUPERSAMPLE / 2
    width = max(1, round(pen * SUPERSAMPLE))
    for start, end in edges:
        draw.line([tuple(xy[start]), tuple(xy[end])], fill=255, width=width)
    for x, y in xy:  # round pen: a disc at every point joins the segments smoothly
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    ink = np.asarray(canvas.resize((CANVAS_SIZE, CANVAS_SIZE), Image.Resampling.BOX))
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


def iter_drawings(images: np.ndarray, style: DrawingStyle, seed: int = 0) -> Iterator[np.ndarray]:
    """Canvas drawings (RGBA 280×280×4 uint8) of MNIST digits (N, 28, 28) in 0..1, one per digit."""
    rng = np.random.default_rng(seed)
    for image in images:
        yield draw_digit(image, style, rng)


def naive_resize(image_data: np.ndarray) -> np.ndarray:
    """What most drawing demos do: the canvas in grey, shrunk to 28×28 as it is. (28, 28) float32 in 0..1."""
    grey = Image.fromarray(image_data).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32) / 255


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_data_url(width: int, height: int, bit_depth: int = 8, grey: bool = False) -> str:
    """A `data:image/png;base64,` URL of a PNG (RGBA, or grey without alpha), black with a white
    vertical bar (a 1) down the middle, as a canvas of that size would send it. Made row by row: a
    12000 × 12000 image takes a few hundred kilobytes to send and 576 MB to decode."""
    depth = bit_depth // 8  # bytes per channel
    black = b"\x00" + (b"\x00" * depth if grey else b"\x00" * 3 * depth + b"\xff" * depth) * width
    pixel = (len(black) - 1) // width
    bar = bytearray(black)
    left, right = width * 9 // 20, width * 11 // 20
    bar[1 + left * pixel : 1 + right * pixel] = b"\xff" * ((right - left) * pixel)
    compressor = zlib.compressobj(9)
    rows = [compressor.compress(bytes(bar) if height // 5 <= row < height * 4 // 5 else black) for row in range(height)]
    data = b"".join(rows) + compressor.flush()
    colour_type = 0 if grey else 6
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
