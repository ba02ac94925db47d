"""Drawing: turn a canvas drawing into a digit the way MNIST digits were made.

MNIST digits were written on paper, scanned bilevel, cropped to the ink, scaled (keeping the aspect
ratio) so the longest side is 20 pixels with anti-aliasing, and placed in a 28×28 field with their
centre of mass at the centre. A canvas drawing is none of that: it sits anywhere, at any size, with
whatever pen width was chosen. `canvas_to_mnist` repeats the recipe on the drawing, and first brings
the pen width to MNIST's typical stroke width (an eighth of the digit's longest side), so thin and
fat pens both look like MNIST ink. The pen width is measured along the middle of the strokes, so a
filled loop or a blot does not pass for a fat pen, and thinning never wipes a stroke out.

`inspect_canvas` says what is on the canvas (nothing, a dot, a blot, a digit) with a message for
the user; `canvas_to_mnist` is the short form that gives the 28×28 digit or None.
Pure NumPy and Pillow: no user interface, no model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from PIL import Image, ImageColor

FIELD_SIZE = 28  # MNIST's image
BOX_SIZE = 20  # MNIST's digit box: the longest side of the ink
FIELD_CENTRE = 14.0  # where MNIST's centres of mass sit, in pixel indices (mean 14.0 ± 0.3 over the test set)

MIN_CONTRAST = 24  # colour distance (0..255) below which a pixel is background, not ink
INK_LEVEL = 0.5  # ink above this (of the strongest ink) counts as a stroke
MIN_EXTENT = 0.05  # ink spanning less than this share of the canvas's shorter side is a speck
MAX_COVERAGE = 0.5  # ink on more than this share of the canvas is no digit
BLOB_WIDTH = 0.35  # stroke width above this share of the ink's longest side: a blot, not strokes
BIG_BLOB_EXTENT = 0.25  # a blot spanning more than this share of the canvas is no digit; smaller is a dot

WORK_SIZE = 80  # the digit's longest side, in pixels, while its strokes are re-thickened
STROKE_WIDTH = 0.125  # MNIST's typical stroke width as a share of the longest side (its median, by pen_width)


class CanvasStatus(Enum):
    EMPTY = "empty"
    TOO_LITTLE_INK = "too little ink"
    NOT_A_DIGIT = "not a digit"
    DIGIT = "digit"


@dataclass(frozen=True)
class CanvasVerdict:
    """What is on the canvas: a status, a message for the user, and the 28×28 digit if there is one."""

    status: CanvasStatus
    message: str
    image: np.ndarray | None = None  # (28, 28) float32 in 0..1, ink high; only when status is DIGIT


MESSAGES = {
    "empty": "The canvas is empty: draw a digit.",
    "speck": "That is only a speck: draw a whole digit, larger.",
    "dot": "That is a dot, not a digit: draw it larger or with a thinner pen.",
    "full": "The canvas is nearly full: that is not a digit. Clear it and draw one digit.",
    "blot": "That is a blot, not a digit: clear the canvas and draw one digit with a thinner pen.",
    "digit": "A digit, prepared like MNIST's.",
}


def _as_pixels(image_data: np.ndarray) -> np.ndarray:
    pixels = np.asarray(image_data)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or min(pixels.shape[:2]) < 1:
        raise ValueError(f"image_data must be an H×W×4 (RGBA), H×W×3 or H×W array, got shape {pixels.shape}")
    if pixels.dtype != np.uint8:
        raise ValueError(f"image_data must hold uint8 colours (0..255), got {pixels.dtype}")
    return pixels


def _background_colour(pixels: np.ndarray, background: str | Sequence[int] | None) -> np.ndarray:
    """The given background colour, else the most common colour along the canvas border."""
    channels = pixels.shape[2]
    if background is not None:
        colour = ImageColor.getrgb(background) if isinstance(background, str) else tuple(background)
        if channels == 4 and len(colour) == 3:
            colour = (*colour, 255)  # the canvas is opaque
        if channels == 1:
            colour = colour[:1] if len(colour) == 1 else (round(float(np.mean(colour[:3]))),)
        if len(colour) != channels:
            raise ValueError(f"background {background!r} does not fit images with {channels} channels")
        return np.array(colour, dtype=np.int16)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    codes = border.astype(np.int64) @ (256 ** np.arange(channels))  # one number per colour: a fast np.unique
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return border[first[counts.argmax()]].astype(np.int16)


def ink_map(image_data: np.ndarray, background: str | Sequence[int] | None = None) -> np.ndarray:
    """Ink (H, W) float32 in 0..1: each pixel's colour distance from the background, 1 for the strongest ink.

    Any pen colour on any opaque background works; alpha counts as one more channel, so a canvas
    with a transparent background works too.
    """
    pixels = _as_pixels(image_data)
    colour = _background_colour(pixels, background)
    distance = np.zeros(pixels.shape[:2], dtype=np.int16)
    for channel in range(pixels.shape[2]):
        np.maximum(distance, np.abs(pixels[:, :, channel].astype(np.int16) - colour[channel]), out=distance)
    contrast = int(distance.max())
    if contrast < MIN_CONTRAST:
        return np.zeros(distance.shape, dtype=np.float32)
    ink = distance.astype(np.float32) / contrast
    ink[distance < MIN_CONTRAST] = 0.0
    return ink


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), bottom and right exclusive, of the True pixels."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def distance_to(targets: np.ndarray) -> np.ndarray:
    """Each pixel's Euclidean distance to the nearest True pixel of `targets`: exact, in two passes,
    along the columns and then across them. Far (the image's diagonal) when there is none."""
    height, width = targets.shape
    far = height + width
    rows = np.arange(height)[:, None]
    above = np.maximum.accumulate(np.where(targets, rows, -far), axis=0)
    below = np.minimum.accumulate(np.where(targets, rows, 2 * far)[::-1], axis=0)[::-1]
    along = np.minimum(np.minimum(rows - above, below - rows), far).astype(np.float32) ** 2  # within each column
    cols = np.arange(width)
    across = (cols[:, None] - cols[None, :]).astype(np.float32) ** 2
    return np.sqrt((along[:, None, :] + across[None]).min(axis=2))


def distance_to_edge(mask: np.ndarray) -> np.ndarray:
    """Each True pixel's distance to the nearest pixel off the ink, beyond the border included; 0 off the ink."""
    return distance_to(~np.pad(mask, 1))[1:-1, 1:-1]


def _middle_lines(distance: np.ndarray) -> np.ndarray:
    """The ink pixels at least as far from the edge as all eight neighbours: the middle of every stroke."""
    padded = np.pad(distance, 1)
    height, width = distance.shape
    farthest = np.max([padded[row : row + height, col : col + width] for row in range(3) for col in range(3)], axis=0)
    return (distance > 0) & (distance >= farthest)


def pen_width(mask: np.ndarray) -> float:
    """The width of the pen that drew the True pixels, in pixels: the median width along the middle
    of the strokes, so filled loops, blots and crossings hardly count. For a round dot, its diameter."""
    distance = distance_to_edge(mask)
    return _pen_width(distance, _middle_lines(distance))


def _pen_width(distance: np.ndarray, middle: np.ndarray) -> float:
    # a middle pixel of a stroke w pixels wide lies (w + 1) / 2 from the first pixel off it, or w / 2 for even w
    return 2 * float(np.median(distance[middle])) - 0.5


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-aware (anti-aliased) resize of a float image."""
    resized = Image.fromarray(image.astype(np.float32)).resize((width, height), Image.Resampling.BOX)
    return np.asarray(resized, dtype=np.float32)


def _scaled_size(height: int, width: int, longest: int) -> tuple[int, int]:
    """(width, height) with the longest side `longest`, keeping the aspect ratio."""
    scale = longest / max(height, width)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _even_pen(mask: np.ndarray, distance: np.ndarray, middle: np.ndarray, width: float) -> np.ndarray:
    """Thicken or thin strokes drawn `width` pixels wide to MNIST's share of the longest side.
    Thinning never wipes out a stroke thinner than the rest nor empties a filled loop: what lies
    within half the new width of the strokes' middle lines stays."""
    top, bottom, left, right = _bounding_box(mask)
    target = STROKE_WIDTH * max(bottom - top, right - left)
    if width < target:
        return distance_to(mask) <= (target - width) / 2
    kept = mask & (distance_to(middle) <= target / 2)
    return (distance > (width - target) / 2) | kept


def _centre_in_field(digit: np.ndarray) -> np.ndarray:
    """Place a digit (at most 20×20) in 28×28 with its centre of mass at MNIST's centre."""
    rows, cols = np.indices(digit.shape)
    mass = digit.sum()
    top = round(FIELD_CENTRE - (rows * digit).sum() / mass)
    left = round(FIELD_CENTRE - (cols * digit).sum() / mass)
    field = Image.new("F", (FIELD_SIZE, FIELD_SIZE), 0.0)
    field.paste(Image.fromarray(digit), (left, top))  # Pillow clips what falls outside
    return np.asarray(field, dtype=np.float32).clip(0.0, 1.0)


def _to_mnist(strokes: np.ndarray) -> np.ndarray | None:
    """The MNIST recipe on a stroke mask cropped to its ink; None if it is a blot rather than strokes."""
    width, height = _scaled_size(*strokes.shape, WORK_SIZE)
    coverage = _resize(strokes, width, height)
    # Shrinking, any ink in a pixel keeps it inked, so a hairline stays whole; the stroke width is
    # set below anyway. Growing, half covered is inked.
    work = coverage > 0 if max(strokes.shape) > WORK_SIZE else coverage >= 0.5
    work = np.pad(work, math.ceil(STROKE_WIDTH * WORK_SIZE))  # room to thicken strokes at the edges
    distance = distance_to_edge(work)
    middle = _middle_lines(distance)
    width_px = _pen_width(distance, middle)
    top, bottom, left, right = _bounding_box(work)
    if width_px > BLOB_WIDTH * max(bottom - top, right - left):
        return None
    return mnist_recipe(_even_pen(work, distance, middle, width_px))


def mnist_recipe(ink: np.ndarray) -> np.ndarray:
    """MNIST's own recipe on an ink image (H, W) with some ink: crop to the ink, scale the longest side
    to 20 pixels with anti-aliasing keeping the aspect ratio, and put the centre of mass at the centre
    of 28×28. (28, 28) float32 in 0..1."""
    top, bottom, left, right = _bounding_box(ink > 0)
    digit = np.asarray(ink[top:bottom, left:right], dtype=np.float32)
    return _centre_in_field(_resize(digit, *_scaled_size(*digit.shape, BOX_SIZE)))


def inspect_canvas(image_data: np.ndarray | None, background: str | Sequence[int] | None = None) -> CanvasVerdict:
    """Say what is on a canvas and, if it is a digit, prepare it like an MNIST digit.

    `image_data` is the canvas's pixels, H×W×4 uint8 RGBA (H×W×3 and H×W also do), any size, on an
    opaque background; None (a canvas not drawn yet) counts as empty. `background` is the canvas's
    background colour ("#000000" or (0, 0, 0)); without it, the most common colour along the border
    is taken, which cannot tell a canvas painted all over from an empty one.

    Statuses: EMPTY; TOO_LITTLE_INK for a speck or a dot; NOT_A_DIGIT for a (nearly) full canvas or a
    large blot; DIGIT, with `image` the (28, 28) float32 digit in 0..1, ink high. Raises ValueError
    for arrays that are not images.
    """
    if image_data is None:
        return CanvasVerdict(CanvasStatus.EMPTY, MESSAGES["empty"])
    ink = ink_map(image_data, background)
    strokes = ink >= INK_LEVEL
    if not strokes.any():
        return CanvasVerdict(CanvasStatus.EMPTY, MESSAGES["empty"])
    if strokes.mean() > MAX_COVERAGE:
        return CanvasVerdict(CanvasStatus.NOT_A_DIGIT, MESSAGES["full"])
    top, bottom, left, right = _bounding_box(strokes)
    extent = max(bottom - top, right - left) / min(ink.shape)
    if extent < MIN_EXTENT:
        return CanvasVerdict(CanvasStatus.TOO_LITTLE_INK, MESSAGES["speck"])
    digit = _to_mnist(strokes[top:bottom, left:right])
    if digit is None:
        if extent < BIG_BLOB_EXTENT:
            return CanvasVerdict(CanvasStatus.TOO_LITTLE_INK, MESSAGES["dot"])
        return CanvasVerdict(CanvasStatus.NOT_A_DIGIT, MESSAGES["blot"])
    return CanvasVerdict(CanvasStatus.DIGIT, MESSAGES["digit"], digit)


def canvas_to_mnist(image_data: np.ndarray | None, background: str | Sequence[int] | None = None) -> np.ndarray | None:
    """The drawing on a canvas as an MNIST digit: (28, 28) float32 in 0..1, ink high; or None.

    `image_data` is the canvas's RGBA pixels (H×W×4 uint8, any size, opaque background of any
    colour; `background` names it, else the border's most common colour is taken). The MNIST recipe:
    crop to the ink, bring the pen width to MNIST's stroke width, scale the longest side to 20 pixels
    with anti-aliasing keeping the aspect ratio, and put the centre of mass at the centre of 28×28.
    None when there is no digit to read: an empty canvas, a speck or dot, a blot, or a (nearly) full
    canvas; `inspect_canvas` says which, with a message for the user.
    """
    return inspect_canvas(image_data, background).image
