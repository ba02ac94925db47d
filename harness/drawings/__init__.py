"""Synthetic canvas drawings of MNIST digits, made four independent ways (`GENERATORS`), each by a
steady hand (`PLAIN`) or a mouse's (`MOUSE`: rotated, slanted, stretched, wobbly), and the two
simple ways of reading a canvas that `canvas_to_mnist` is measured against; and what a hostile page
can send instead of a drawing (`png_data_url`).

scikit-image and SciPy are development dependencies (requirements-dev.txt): the package never imports this.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from mnistdemo.drawing import INK_LEVEL, ink_map, mnist_recipe

from .bombs import png_data_url
from .generators import GENERATORS, Drawing, Generator
from .hand import HANDS, MOUSE, PLAIN, Hand

__all__ = [
    "GENERATORS",
    "HANDS",
    "MOUSE",
    "PLAIN",
    "Drawing",
    "Generator",
    "Hand",
    "draw_set",
    "naive_resize",
    "plain_recipe",
    "png_data_url",
]


def draw_set(images: np.ndarray, generator: Generator, hand: Hand, seed: int) -> Iterator[Drawing]:
    """Drawings of MNIST digits (N, 28, 28) in 0..1, one per digit; each depends only on the seed,
    the digit and its place in the list."""
    for index, image in enumerate(images):
        yield generator.draw(image, hand, np.random.default_rng([seed, index]))


def naive_resize(image_data: np.ndarray) -> np.ndarray:
    """What most drawing demos do: the canvas in grey, shrunk to 28×28 as it is. (28, 28) float32 in 0..1."""
    grey = Image.fromarray(image_data).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32) / 255


def plain_recipe(image_data: np.ndarray) -> np.ndarray | None:
    """MNIST's own recipe and nothing more: crop to the ink, longest side to 20 pixels, centre of mass
    at the centre of 28×28; the pen width as drawn. None for an empty canvas."""
    strokes = ink_map(image_data) >= INK_LEVEL
    return mnist_recipe(strokes) if strokes.any() else None
