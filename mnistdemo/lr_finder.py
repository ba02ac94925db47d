"""The learning-rate finder (Leslie Smith's range test, as fastai runs it): train a copy of the model
for a few hundred batches while the rate rises exponentially, and suggest the rate at which the
loss falls fastest.

It trains a copy: the model it is given never changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .augment import augment_batch
from .config import TrainConfig
from .data import MnistData
from .models import build_model
from .training import crossentropy

LOWEST_LR, HIGHEST_LR = 1e-5, 1.0  # the sidebar offers 1e-5 to 1e-1; the top shows where it breaks
BATCHES = 150
SMOOTHING = 0.9  # of the exponential moving average of the loss (bias-corrected)
DIVERGED = 4.0  # stop once the smoothed loss is this many times its lowest
WARM_UP = 10  # batches before a stop or a suggestion: the first losses are mostly noise


@dataclass(frozen=True)
class LrFinding:
    rates: np.ndarray  # the learning rate of each batch trained
    losses: np.ndarray  # each batch's loss
    smoothed: np.ndarray  # their moving average
    suggested: float | None  # where the smoothed loss falls fastest; None when it never fell
    diverged: bool  # stopped early: the loss ran away


def starting_model(current: nn.Module, current_config: TrainConfig, chosen: TrainConfig) -> nn.Module:
    """The weights the next Train starts from: the current ones, or new ones when the chosen model or
    random seed differ from the current model's."""
    if current_config.needs_new_weights(chosen):
        return build_model(chosen.model, torch.Generator().manual_seed(chosen.seed))
    return current


def suggest(rates: np.ndarray, smoothed: np.ndarray) -> float | None:
    """The rate of steepest descent of the smoothed loss against log(rate), before its lowest point."""
    lowest = int(np.argmin(smoothed))
    if lowest <= WARM_UP + 1:
        return None
    slopes = np.gradient(smoothed[: lowest + 1], np.log10(rates[: lowest + 1]))
    steepest = WARM_UP + int(np.argmin(slopes[WARM_UP:]))
    return float(rates[steepest]) if slopes[steepest] < 0 else None


def find_learning_rate(
    model: nn.Module,
    data: MnistData,
    config: TrainConfig,
    batches: int = BATCHES,
    lowest: float = LOWEST_LR,
    highest: float = HIGHEST_LR,
) -> LrFinding:
    """Train a copy of `model` with `config`'s batch size and augmentation for up to `batches` batches,
    the rate rising from `lowest` to `highest` by the same factor each batch."""
    probe = copy.deepcopy(model).train()
    device = next(probe.parameters()).device
    images_all, labels_all = data.train_images.to(device), data.train_labels.to(device)
    optimizer = torch.optim.Adam(probe.parameters(), lr=lowest)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    rates = np.geomspace(lowest, highest, batches)
    losses, smoothed = [], []
    average, diverged = 0.0, False
    for step, rate in enumerate(rates, start=1):
        for group in optimizer.param_groups:
            group["lr"] = float(rate)
        index = torch.randint(len(images_all), (config.batch_size,), device=device, generator=generator)
        images = augment_batch(images_all[index], generator) if config.augment else images_all[index]
        loss = crossentropy(probe(images), labels_all[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        average = SMOOTHING * average + (1 - SMOOTHING) * losses[-1]
        smoothed.append(average / (1 - SMOOTHING**step))
        if step > WARM_UP and (not np.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGED * min(smoothed)):
            diverged = True
            break
    tried = rates[: len(losses)]
    curve = np.array(smoothed)
    finite = np.isfinite(curve)
    suggested = suggest(tried[finite], curve[finite]) if finite.sum() > WARM_UP + 2 else None
    return LrFinding(tried, np.array(losses), curve, suggested, diverged)
