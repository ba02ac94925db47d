"""Pictures: digits as images to show, enlarged without smoothing so every pixel stays a square.

Browsers smooth small images they enlarge, which blurs a 28x28 digit into a smudge; enlarging by a
whole factor here keeps the pixels crisp. White ink on black, as MNIST is usually shown and as the
canvas is drawn.
"""

from __future__ import annotations

import numpy as np

MISTAKE_RGB = (217, 48, 37)  # the red the charts use for a wrong guess


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """A (28, 28) image with values 0..1 -> uint8 (28*scale, 28*scale), each pixel a scale x scale square."""
    array = np.asarray(image, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"need one 2-D image, got shape {array.shape}")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    pixels = np.rint(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def digit_tile(image: np.ndarray, scale: int, mistake: bool = False, border: int = 4) -> np.ndarray:
    """An enlarged digit as RGB uint8, framed in red when the model got it wrong.

    Every tile has the frame's size, so framed and unframed tiles line up in a grid.
    """
    gray = enlarge(image, scale)
    tile = np.zeros((gray.shape[0] + 2 * border, gray.shape[1] + 2 * border, 3), dtype=np.uint8)
    if mistake:
        tile[:, :] = MISTAKE_RGB
    tile[border : border + gray.shape[0], border : border + gray.shape[1]] = gray[..., None]
    return tile
