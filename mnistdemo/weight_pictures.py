"""Weight pictures: what a layer learned, drawn as one image to show (RGB uint8).

The MLPs' hidden units as 28×28 weight images, each with its votes for the ten digits; the cnn's
filters and feature maps; attribution maps over a digit. One picture, not a chart per unit: the page
redraws it at every poll while a model trains, and an image costs the browser almost nothing.
Weights use one diverging scale centred on 0, shared by every tile of a picture: blue positive, red
negative, white zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# ColorBrewer's RdBu, red for negative, blue for positive (the charts' colours for wrong and right)
DIVERGING = np.array([(202, 0, 32), (244, 165, 130), (247, 247, 247), (146, 197, 222), (5, 113, 176)], float)
SEQUENTIAL = np.array([(255, 255, 255), (158, 202, 225), (8, 48, 107)], float)  # 0 white .. high dark blue
FIRING = (24, 128, 56)  # the charts' green
TEXT = (17, 24, 39)
BACKGROUND = (255, 255, 255)
FRAME = (200, 205, 212)  # a thin line around each tile: a white tile still shows its extent
FONT_SIZE = 20
GAP = 10  # pixels between tiles


def _font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _colour(values: np.ndarray, anchors: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values -> RGB uint8 through colours spread evenly from `low` to `high` (clipped outside)."""
    positions = np.linspace(low, high, len(anchors))
    clipped = np.clip(values, low, high)
    channels = [np.interp(clipped, positions, anchors[:, channel]) for channel in range(3)]
    return np.rint(np.stack(channels, axis=-1)).astype(np.uint8)


def symmetric_limit(values: np.ndarray) -> float:
    """The largest magnitude: the ends of a diverging scale centred on 0 (1 when all are 0)."""
    largest = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return largest if largest > 0 else 1.0


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Weights -> RGB: red negative, white 0, blue positive, ±`limit` (default: the largest magnitude)."""
    limit = symmetric_limit(values) if limit is None else limit
    return _colour(np.asarray(values, float), DIVERGING, -limit, limit)


def sequential(values: np.ndarray, high: float | None = None) -> np.ndarray:
    """Activations >= 0 -> RGB: white 0 .. dark blue at `high` (default: the largest)."""
    high = symmetric_limit(values) if high is None else high
    return _colour(np.asarray(values, float), SEQUENTIAL, 0.0, high)


def _enlarge(rgb: np.ndarray, scale: int) -> np.ndarray:
    return rgb.repeat(scale, axis=0).repeat(scale, axis=1)


def _arrow(draw: ImageDraw.ImageDraw, x: float, y: float, length: int = 14) -> None:
    """A small right arrow from (x, y), mid-height of a caption (the default font has no '→')."""
    middle = y + FONT_SIZE * 0.6
    draw.line((x, middle, x + length - 4, middle), fill=TEXT, width=2)
    draw.polygon([(x + length, middle), (x + length - 6, middle - 4), (x + length - 6, middle + 4)], fill=TEXT)


def _caption(draw: ImageDraw.ImageDraw, x: int, y: int, caption: str, font: ImageFont.FreeTypeFont) -> None:
    """Text, with each ' → ' drawn as an arrow."""
    for index, part in enumerate(caption.split(" → ")):
        if index:
            _arrow(draw, x + 4, y)
            x += 22
        draw.text((x, y), part, fill=TEXT, font=font)
        x += draw.textlength(part, font=font)


def tile_grid(tiles: Sequence[np.ndarray], captions: Sequence[str], columns: int) -> np.ndarray:
    """Equal-sized RGB tiles in rows of `columns`, each with its caption above it."""
    font = _font()
    height, width = tiles[0].shape[:2]
    caption_height = FONT_SIZE + 6
    rows = -(-len(tiles) // columns)
    cell_width, cell_height = width + GAP, height + caption_height + GAP
    canvas = Image.new("RGB", (columns * cell_width - GAP + 2, rows * cell_height - GAP + 1), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for index, (tile, caption) in enumerate(zip(tiles, captions, strict=True)):
        x, y = (index % columns) * cell_width + 1, (index // columns) * cell_height
        _caption(draw, x, y, caption, font)
        canvas.paste(Image.fromarray(tile), (x, y + caption_height))
        draw.rectangle((x - 1, y + caption_height - 1, x + width, y + caption_height + height), outline=FRAME)
    return np.asarray(canvas)


def _vote_strip(votes: np.ndarray, limit: float, width: int) -> np.ndarray:
    """A unit's ten outgoing weights as ten coloured cells, digits 0..9 from left to right."""
    cell = width // len(votes)
    strip = np.full((cell, width, 3), 255, np.uint8)
    colours = diverging(votes, limit)
    for digit, colour in enumerate(colours):
        strip[:, digit * cell : (digit + 1) * cell - 1] = colour
    return strip


def _firing_bar(activation: float, width: int, height: int = 8) -> np.ndarray:
    """How strongly a unit fires (0..1), as a green bar filled that far."""
    bar = np.full((height, width, 3), 225, np.uint8)
    bar[:, : round(min(1.0, max(0.0, activation)) * width)] = FIRING
    return bar


def unit_grid(
    weights: np.ndarray,
    votes: np.ndarray | None = None,
    activations: np.ndarray | None = None,
    columns: int = 8,
    scale: int = 3,
) -> np.ndarray:
    """Each hidden unit's input weights (units, 28, 28) as an image on one shared diverging scale,
    with its votes for the digits 0-9 below it (their own shared scale) and the digit it votes for
    most in its caption ("7 → 3"). With `activations` (units,) in 0..1: a bar shows how strongly each
    unit fires, and the units that hardly fire fade."""
    limit = symmetric_limit(weights)
    vote_limit = symmetric_limit(votes) if votes is not None else 1.0
    tiles, captions = [], []
    for unit, unit_weights in enumerate(weights):
        parts = [_enlarge(diverging(unit_weights, limit), scale)]
        width = parts[0].shape[1]
        caption = f"unit {unit + 1}"
        if votes is not None:
            parts += [np.full((3, width, 3), 255, np.uint8), _vote_strip(votes[unit], vote_limit, width)]
            caption = f"{unit + 1} → {int(np.argmax(votes[unit]))}"
        if activations is not None:
            activation = float(activations[unit])
            parts = [_firing_bar(activation, width), np.full((3, width, 3), 255, np.uint8), *parts]
            faded = np.concatenate(parts[2:]).astype(float)
            parts[2:] = [np.rint(255 - (255 - faded) * (0.25 + 0.75 * activation)).astype(np.uint8)]
            caption = f"{unit + 1}: {activation:.2f}"
        tiles.append(np.concatenate(parts))
        captions.append(caption)
    return tile_grid(tiles, captions, columns)


def map_grid(maps: np.ndarray, signed: bool, columns: int, size: int = 96, label: str = "") -> np.ndarray:
    """Small maps (n, h, w), each enlarged to about `size` pixels: filters on one diverging scale
    (`signed`), feature maps (>= 0) on one sequential scale; captions '{label} k'."""
    scale = max(1, size // maps.shape[-1])
    coloured = diverging(maps) if signed else sequential(maps)
    tiles = [_enlarge(tile, scale) for tile in coloured]
    return tile_grid(tiles, [f"{label} {index + 1}".strip() for index in range(len(maps))], columns)


def attribution_overlay(image: np.ndarray, attribution: np.ndarray, limit: float, scale: int = 8) -> np.ndarray:
    """An attribution map (28, 28) over its digit (28, 28, ink 0..1): the digit in grey on white, blue
    where the pixels speak for the digit, red against, stronger the nearer they come to ±`limit`."""
    ink = np.clip(np.asarray(image, float), 0, 1)[..., None]
    digit = 255 - ink * 110  # grey strokes: visible, yet quiet under the colours
    # the square root lifts the many small shares into view beside the few large ones
    strength = np.sqrt(np.clip(np.abs(attribution) / limit, 0, 1))[..., None]
    colour = np.where(np.asarray(attribution)[..., None] >= 0, DIVERGING[-1], DIVERGING[0])
    picture = digit * (1 - strength) + colour * strength
    return _enlarge(np.rint(picture).astype(np.uint8), scale)
