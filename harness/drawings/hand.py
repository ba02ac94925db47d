"""The hand: how a person's drawing departs from the digit in mind (rotation, slant, stretch, wobble),
and the elastic warp of Simard, Steinkraus and Platt (2003) that makes a digit another writer's.

Points are (x, y); angles in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates

# Simard et al. 2003, section 2: displacement fields of uniform noise in -1..1, smoothed by a Gaussian
# of σ = 4 pixels and scaled by α = 34, on MNIST's 28×28 digits.
ELASTIC_SIGMA = 4.0
ELASTIC_ALPHA = 34.0


@dataclass(frozen=True)
class Hand:
    """How far a drawing departs from the digit: each drawing draws its own within these bounds."""

    name: str
    rotation: float = 0.0  # up to ± this
    shear: float = 0.0  # up to ± this (x moves by shear × y)
    stretch: float = 0.0  # aspect ratio changed by up to ± this share
    wobble: float = 0.0  # smooth hand wobble, up to this share of the size
    jitter: float = 0.0  # pen position noise, canvas pixels (standard deviation)


PLAIN = Hand("plain")  # the digit as it was written, only redrawn
MOUSE = Hand("mouse", rotation=20, shear=0.3, stretch=0.25, wobble=0.03, jitter=1.0)
HANDS = {hand.name: hand for hand in (PLAIN, MOUSE)}


def move(points: np.ndarray, hand: Hand, rng: np.random.Generator) -> np.ndarray:
    """Rotate, shear, stretch and wobble points about their centre; the result is centred at 0."""
    centred = points - points.mean(axis=0)
    angle = np.radians(rng.uniform(-hand.rotation, hand.rotation))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, rng.uniform(-hand.shear, hand.shear)], [0.0, 1.0]])
    aspect = 1 + rng.uniform(-hand.stretch, hand.stretch)
    stretch = np.diag([np.sqrt(aspect), 1 / np.sqrt(aspect)])
    moved = centred @ (rotation @ shear @ stretch).T
    if hand.wobble:
        # a smooth displacement field: two random waves per axis, about one or two per digit
        extent = np.ptp(moved, axis=0).max()
        for axis in range(2):
            for _ in range(2):
                direction = rng.normal(size=2)
                frequency = rng.uniform(1, 2) * 2 * np.pi / extent
                phase = rng.uniform(0, 2 * np.pi)
                wave = np.sin(frequency * moved @ direction / np.linalg.norm(direction) + phase)
                moved[:, axis] += hand.wobble / 2 * extent * wave
    return moved


def elastic_warp(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit (28, 28) warped by a random smooth displacement field (Simard et al. 2003)."""
    shape = image.shape
    dx, dy = (
        gaussian_filter(rng.uniform(-1, 1, size=shape), ELASTIC_SIGMA, mode="constant") * ELASTIC_ALPHA
        for _ in range(2)
    )
    rows, cols = np.indices(shape)
    warped = map_coordinates(np.asarray(image, dtype=np.float32), [rows + dy, cols + dx], order=1, mode="constant")
    return warped.clip(0, 1).astype(np.float32)
