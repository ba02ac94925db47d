"""Inside: what a network learned, as pure functions of a model and arrays.

Mistakes by class (the confusion matrix and each class's accuracy), what the first layer learned
(the MLPs' hidden units as 28×28 weight images with their votes for each digit, the cnn's filters),
and how that layer responds to one digit (which hidden units fire; the cnn's feature maps). Which
of these a model has comes from its structure: a first Linear layer has units, a first Conv2d filters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

DIGITS = 10


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Counts (10, 10): row = true digit, column = the model's guess."""
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape:
        raise ValueError(f"{len(predicted)} predictions for {len(labels)} labels")
    return np.bincount(labels * DIGITS + predicted, minlength=DIGITS * DIGITS).reshape(DIGITS, DIGITS)


def class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Percent of each true digit guessed right (10,); NaN for a digit with no examples."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, 100.0 * np.diag(matrix) / totals, np.nan)


@dataclass(frozen=True)
class FirstLayer:
    """The first layer's weights, one picture per unit or filter."""

    weights: np.ndarray  # (units, 28, 28): each hidden unit's input weights; or (filters, k, k)
    votes: np.ndarray | None  # (units, 10): each unit's outgoing weight to each digit, when the next layer answers
    convolutional: bool


def _weight_layers(model: nn.Module) -> list[tuple[int, nn.Module]]:
    return [(index, layer) for index, layer in enumerate(model.children()) if isinstance(layer, (nn.Linear, nn.Conv2d))]


def first_layer(model: nn.Module) -> FirstLayer:
    """The first weight layer of a preset's network (an nn.Sequential taking (N, 28, 28) images)."""
    (_, first), *rest = _weight_layers(model)
    weights = first.weight.detach().cpu().numpy()
    if isinstance(first, nn.Conv2d):
        return FirstLayer(weights[:, 0], None, convolutional=True)
    side = math.isqrt(first.in_features)
    second = rest[0][1] if rest else None
    answers = isinstance(second, nn.Linear) and second.out_features == DIGITS and len(rest) == 1
    votes = second.weight.detach().cpu().numpy().T if answers else None
    return FirstLayer(weights.reshape(-1, side, side), votes, convolutional=False)


@torch.no_grad()
def first_layer_response(model: nn.Module, image: np.ndarray) -> np.ndarray:
    """What the first layer passes on for one image (28, 28), after its activation: each hidden
    unit's activation (units,), or each filter's feature map (filters, h, w)."""
    index, _ = _weight_layers(model)[0]
    first_part = nn.Sequential(*list(model.children())[: index + 2])  # up to the weight layer's activation
    images = torch.as_tensor(np.asarray(image, dtype=np.float32)[None], device=next(model.parameters()).device)
    return first_part(images)[0].cpu().numpy()
