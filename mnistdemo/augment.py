"""Augmentation: make MNIST digits look more like digits drawn on a canvas.

Batched on whatever device the images live on (no per-sample PIL): a random stroke-thickness change
(a blend towards a 3x3 dilation or erosion), then a random affine warp (rotation, shear, stretch,
translation) plus a smooth random wobble and, if asked, an elastic distortion (Simard et al. 2003),
applied with one `affine_grid`/`grid_sample` per batch. How far each goes is an `Augmentation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Augmentation:
    """How far training digits are pushed: each digit draws its own within these bounds."""

    rotation_deg: float = MAX_ROTATION_DEG
    shear_deg: float = MAX_SHEAR_DEG
    scale: tuple[float, float] = SCALE_RANGE
    shift_px: float = MAX_SHIFT_PX
    thickness: tuple[float, float] = THICKNESS_RANGE
    wobble_px: float = MAX_WOBBLE_PX
    elastic_alpha: float = 0.0  # Simard et al.'s α, pixels: how far the elastic field moves ink; 0 for none
    elastic_sigma: float = 4.0  # their σ, pixels: how smooth that field is


DRAWN = Augmentation()


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


def random_affine(
    images: torch.Tensor, generator: torch.Generator | None = None, augmentation: Augmentation = DRAWN
) -> torch.Tensor:
    n = len(images)
    rotation = torch.deg2rad(_uniform(n, -augmentation.rotation_deg, augmentation.rotation_deg, images, generator))
    shear = math.tan(math.radians(augmentation.shear_deg)) * _uniform(n, -1, 1, images, generator)
    scale_x, scale_y = (1 / _uniform(n, *augmentation.scale, images, generator) for _ in range(2))
    shift = augmentation.shift_px * 2 / 28  # affine_grid works in [-1, 1] coordinates
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
    grid = F.affine_grid(theta, (n, 1, 28, 28), align_corners=False)
    grid = grid + wobble(n, images, generator, augmentation.wobble_px)
    if augmentation.elastic_alpha:
        grid = grid + elastic(n, images, generator, augmentation.elastic_alpha, augmentation.elastic_sigma)
    return F.grid_sample(images.unsqueeze(1), grid, align_corners=False).squeeze(1)


def wobble(
    n: int, like: torch.Tensor, generator: torch.Generator | None = None, largest_px: float = MAX_WOBBLE_PX
) -> torch.Tensor:
    """A smooth random displacement field (n, 28, 28, 2) in affine_grid's [-1, 1] units: random shifts
    on a coarse grid, interpolated, like a hand that wavers along a stroke."""
    size = WOBBLE_GRID * WOBBLE_GRID * 2 * n
    coarse = _uniform(size, -1, 1, like, generator).view(n, 2, WOBBLE_GRID, WOBBLE_GRID) * (largest_px * 2 / 28)
    return F.interpolate(coarse, size=(28, 28), mode="bilinear", align_corners=True).permute(0, 2, 3, 1)


def elastic(n: int, like: torch.Tensor, generator: torch.Generator | None, alpha: float, sigma: float) -> torch.Tensor:
    """Simard et al.'s elastic distortion as a displacement field (n, 28, 28, 2) in affine_grid's units:
    uniform noise in -1..1 per pixel, smoothed by a Gaussian of `sigma` pixels, times `alpha` pixels."""
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, device=like.device, dtype=like.dtype)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    noise = _uniform(n * 2 * 28 * 28, -1, 1, like, generator).view(n * 2, 1, 28, 28)
    # a Gaussian is separable: one pass along rows, one along columns, zeros beyond the edge as in the paper
    smooth = F.conv2d(noise, kernel.view(1, 1, 1, -1), padding=(0, radius))
    smooth = F.conv2d(smooth, kernel.view(1, 1, -1, 1), padding=(radius, 0))
    return (smooth.view(n, 2, 28, 28) * (alpha * 2 / 28)).permute(0, 2, 3, 1)


def augment_batch(
    images: torch.Tensor, generator: torch.Generator | None = None, augmentation: Augmentation = DRAWN
) -> torch.Tensor:
    """A randomly thickened or thinned and warped copy of a batch (N, 28, 28) in 0..1."""
    thicker = change_thickness(images, _uniform(len(images), *augmentation.thickness, images, generator))
    return random_affine(thicker, generator, augmentation).clamp_(0, 1)
