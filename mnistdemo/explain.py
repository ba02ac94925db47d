"""Explain: why a model gives its answer for one digit, as pure functions of a model and an image.

`attributions`: where the model looks. Captum's integrated gradients of the model's output (its
log-probability) for a chosen digit, from a blank image to this one, pixel by pixel: every pixel's
share of how much more (or less) the model believes that digit than it does for a blank image.

`steadiness`: how the ten probabilities change as the digit is shifted, turned and its strokes
thinned or thickened; every variant goes through the model in one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import IntegratedGradients
from torch import nn

from .augment import change_thickness
from .inference import predict_proba

IG_STEPS = 32  # steps of the path integral; each map adds up to its total within a few percent


@torch.enable_grad()  # the page may call it from inside a no-grad context; the model's own weights stay untouched
def attributions(model: nn.Module, image: np.ndarray, digits: Sequence[int]) -> np.ndarray:
    """Integrated gradients (len(digits), 28, 28) of the log-probability of each of `digits` for one
    image (28, 28), from a black image (no ink, MNIST's background): positive where the ink speaks for
    that digit, negative where it speaks against. Each map sums to log p(digit | image) − log p(digit | black)."""
    device = next(model.parameters()).device
    image = torch.as_tensor(np.asarray(image, dtype=np.float32), device=device)
    inputs = image.expand(len(digits), *image.shape).contiguous()
    was_training = model.training
    model.eval()
    maps = IntegratedGradients(model).attribute(
        inputs, baselines=torch.zeros_like(inputs), target=[int(digit) for digit in digits], n_steps=IG_STEPS
    )
    model.train(was_training)
    return maps.detach().cpu().numpy()


# The moves of the steadiness sweep, and their values (0 is the digit as it is).
SHIFTS_PX = np.arange(-4, 5)
ANGLES_DEG = np.arange(-30, 31, 5)
STROKE_CHANGES = np.linspace(-1, 1, 9)  # −1: eroded by one pixel all round; +1: dilated by one


@dataclass(frozen=True)
class Sweep:
    """One move applied in steps, and the model's ten probabilities at each step."""

    move: str  # what was done to the digit, as an axis title
    values: np.ndarray  # (steps,)
    probabilities: np.ndarray  # (steps, 10)


def shifted(image: torch.Tensor, right: int, down: int) -> torch.Tensor:
    """The image moved by whole pixels, the edge it leaves empty (no ink), what falls off lost."""
    moved = torch.zeros_like(image)
    height, width = image.shape[-2:]
    rows = slice(max(0, down), height + min(0, down))
    columns = slice(max(0, right), width + min(0, right))
    source_rows = slice(max(0, -down), height + min(0, -down))
    source_columns = slice(max(0, -right), width + min(0, -right))
    moved[..., rows, columns] = image[..., source_rows, source_columns]
    return moved


def rotated(images: torch.Tensor, degrees: np.ndarray) -> torch.Tensor:
    """Each of `images` (N, 28, 28) turned anticlockwise (as shown on screen) about its centre by its
    angle in `degrees` (N,); bilinear, no ink outside."""
    radians = torch.as_tensor(np.radians(degrees), dtype=images.dtype, device=images.device)
    cos, sin, zero = torch.cos(radians), torch.sin(radians), torch.zeros_like(radians)
    # affine_grid maps output positions to input ones, y pointing down: the inverse rotation
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, (len(images), 1, *images.shape[-2:]), align_corners=False)
    return F.grid_sample(images.unsqueeze(1), grid, align_corners=False).squeeze(1)


def steadiness(model: nn.Module, image: np.ndarray) -> list[Sweep]:
    """The ten probabilities for one image (28, 28) shifted sideways and up or down (±4 px), rotated
    (±30°) and with its strokes thinned or thickened, all variants predicted in one batch."""
    digit = torch.as_tensor(np.asarray(image, dtype=np.float32))
    sideways = [shifted(digit, right, 0) for right in SHIFTS_PX]
    vertical = [shifted(digit, 0, down) for down in SHIFTS_PX]
    repeated = digit.expand(len(ANGLES_DEG), *digit.shape)
    turned = rotated(repeated, ANGLES_DEG)
    turned[ANGLES_DEG == 0] = digit  # exactly the digit, not its resampled copy
    strokes = change_thickness(
        digit.expand(len(STROKE_CHANGES), *digit.shape), torch.as_tensor(STROKE_CHANGES, dtype=digit.dtype)
    )
    batch = torch.cat([torch.stack(sideways), torch.stack(vertical), turned, strokes])
    probabilities = predict_proba(model, batch.numpy())
    moves = [
        ("shift right (px)", SHIFTS_PX),
        ("shift down (px)", SHIFTS_PX),
        ("turn anticlockwise (°)", ANGLES_DEG),
        ("stroke width", STROKE_CHANGES),
    ]
    sweeps, start = [], 0
    for move, values in moves:
        sweeps.append(Sweep(move, values, probabilities[start : start + len(values)]))
        start += len(values)
    return sweeps
