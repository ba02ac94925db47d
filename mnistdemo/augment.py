"""Augmentation: make MNIST digits look more like digits drawn on a canvas.

Batched on whatever device the images live on (no per-sample PIL): a random stroke-thickness change
(a blend towards a 3x3 dilation or erosion), then a random affine warp (rotation, shear, stretch,
translation) plus a smooth random wobble, applied with one `affine_grid`/`grid_sample` per batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Drawings reach the model through canvas_to_mnist, which sets size, position and stroke width the
# way MNIST did; what it cannot undo is the hand: rotation, slant, stretch and wobble. Those vary
# widely here; size, position and thickness only a little (wider ranges measured worse, on MNIST
# and on drawings alike: bench/eval_drawings.py).
MAX_ROTATION_DEG = 20.0
MAX_SHEAR_DEG = 15.0
SCALE_RANGE = (0.9, 1.1)  # each axis separately, so it also stretches
MAX_SHIFT_PX = 1.0
THICKNESS_RANGE = (-0.3, 0.5)  # negative thins (towards erosion), positive thickens
MAX_WOBBLE_PX = 1.5
WOBBLE_GRID = 4  # random shifts on a 4×4 grid: about one waver per stroke


def _uniform(n: int, low: float, high: float, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.empty(n, device=like.device, dtype=like.dtype).uniform_(low, high, generator=generator)


def _max_3x3(x: torch.Tensor) -> torch.Tensor:
    """Each pixel's 3×3 neighbourhood maximum, as max_pool2d(x, 3, stride=1, padding=1) gives it, in
    two passes of shifted maxima, much faster than max_pool2d on the CPU."""
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")  # an edge pixel's window is clipped, as max_pool2d's
    across = torch.maximum(torch.maximum(padded[..., :-2], padded[..., 1:-1]), padded[..., 2:])
    return torch.maximum(torch.maximum(across[..., :-2, :], across[..., 1:-1, :]), across[..., 2:, :])


def change_thickness(images: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Per image, blend towards the dilated (amount > 0) or eroded (amount < 0) image."""
    x = images.unsqueeze(1)
    dilated = _max_3x3(x)
    eroded = -_max_3x3(-x)
    amount = amount.view(-1, 1, 1, 1)
    target = torch.where(amount > 0, dilated, eroded)
    return (x + amount.abs() * (target - x)).squeeze(1)


def random_affine(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    n = len(images)
    rotation = torch.deg2rad(_uniform(n, -MAX_ROTATION_DEG, MAX_ROTATION_DEG, images, generator))
    shear = math.tan(math.radians(MAX_SHEAR_DEG)) * _uniform(n, -1, 1, images, generator)
    scale_x, scale_y = (1 / _uniform(n, *SCALE_RANGE, images, generator) for _ in range(2))
    shift = MAX_SHIFT_PX * 2 / 28  # affine_grid works in [-1, 1] coordinates
    cos, sin = torch.cos(rotation), torch.sin(rotation)
    # theta maps output coordinates to input ones: rotation @ shear @ stretch, plus a shift
    theta = torch.stack(
        [
            torch.stack(
                [cos * scale_x, (cos * shear - sin) * scale_y, _uniform(n, -shift, shift, images, generator)], 1
            ),
            torch.stack(
                [sin * scale_x, (sin * shear + cos) * scale_y, _uniform(n, -shift, shift, images, generator)], 1
            ),
        ],
        1,
    )
    grid = F.affine_grid(theta, (n, 1, 28, 28), align_corners=False) + wobble(n, images, generator)
    return F.grid_sample(images.unsqueeze(1), grid, align_corners=False).squeeze(1)


def wobble(n: int, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A smooth random displacement field (n, 28, 28, 2) in affine_grid's [-1, 1] units: random shifts
    on a coarse grid, interpolated, like a hand that wavers along a stroke."""
    size = WOBBLE_GRID * WOBBLE_GRID * 2 * n
    coarse = _uniform(size, -1, 1, like, generator).view(n, 2, WOBBLE_GRID, WOBBLE_GRID) * (MAX_WOBBLE_PX * 2 / 28)
    return F.interpolate(coarse, size=(28, 28), mode="bilinear", align_corners=True).permute(0, 2, 3, 1)


def augment_batch(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A randomly thickened or thinned and warped copy of a batch (N, 28, 28) in 0..1."""
    thicker = change_thickness(images, _uniform(len(images), *THICKNESS_RANGE, images, generator))
    return random_affine(thicker, generator).clamp_(0, 1)
