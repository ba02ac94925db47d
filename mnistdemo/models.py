"""Models: the notebook's network, the model zoo's variant, and a small CNN, plain and trained for drawings.

Every model takes images (N, 28, 28) and returns log-probabilities (N, 10); `exp` of the output is
the probability vector the notebook plots. Log space keeps the cross-entropy exact and stable:
for the seed model log_softmax(sigmoid(z)) is exactly log(softmax(sigmoid(z))).

`PRESETS` is the one table of what is true of each preset; adding a preset is one entry there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .augment import DRAWN, Augmentation

# softmax over ten values each squashed into (0, 1) by a sigmoid: the largest share one can get is
# e / (e + 9), when it sits at 1 and the other nine at 0.
SIGMOID_SOFTMAX_CAP = math.e / (math.e + 9)


def mlp(output_sigmoid: bool) -> nn.Sequential:
    """Linear(784→32) → sigmoid → Linear(32→10) [→ sigmoid] → log-softmax."""
    layers = [nn.Flatten(), nn.Linear(784, 32), nn.Sigmoid(), nn.Linear(32, 10)]
    if output_sigmoid:
        layers.append(nn.Sigmoid())
    layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers)


def lenet() -> nn.Sequential:
    """Two unpadded 5×5 conv blocks: half the cost of padded ones, losing only MNIST's empty border."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28)),  # (N, 28, 28) -> (N, 1, 28, 28)
        nn.Conv2d(1, 16, 5),  # 24×24
        nn.ReLU(),
        nn.MaxPool2d(2),  # 12×12
        nn.Conv2d(16, 32, 5),  # 8×8
        nn.ReLU(),
        nn.MaxPool2d(2),  # 4×4
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
        nn.LogSoftmax(dim=1),
    )


@dataclass(frozen=True)
class ModelSpec:
    """A preset: how to build it, how it starts, what its answers can be, how it trains by default."""

    name: str
    description: str
    architecture: Callable[[], nn.Sequential]
    flux_init: bool  # Flux's Dense default (Glorot-uniform weights, zero bias), else PyTorch's
    epochs: int
    batch_size: int
    lr: float
    augment: bool = False
    augmentation: Augmentation = DRAWN  # how far training digits are warped when augmenting
    label_smoothing: float = 0.0  # share of each training target spread evenly over all ten digits
    one_cycle: bool = False  # the learning rate (`lr` its peak) rises and falls once every `epochs` epochs
    probability_cap: float | None = None  # the highest probability it can give, if below 1
    cap_note: str = ""  # why, for people puzzled by short bars
    uncapped_variant: str | None = None  # the preset to suggest instead


NOTEBOOK = {"epochs": 30, "batch_size": 256, "lr": 3e-4}  # Adam, as in the notebook

PRESETS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "seed",
            "the notebook: Linear(784→32) → sigmoid → Linear(32→10) → sigmoid → softmax",
            lambda: mlp(output_sigmoid=True),
            flux_init=True,
            probability_cap=SIGMOID_SOFTMAX_CAP,
            cap_note=f"The seed model puts a sigmoid before its softmax, so no probability can pass "
            f"e/(e+9) ≈ {SIGMOID_SOFTMAX_CAP:.2f} (dashed line): the tallest bar is its answer. "
            "The zoo model drops that sigmoid and answers with confidence.",
            uncapped_variant="zoo",
            **NOTEBOOK,
        ),
        ModelSpec(
            "zoo",
            "FluxML model zoo: Linear(784→32) → sigmoid → Linear(32→10) → softmax",
            lambda: mlp(output_sigmoid=False),
            flux_init=True,
            **NOTEBOOK,
        ),
        # An epoch of the CNN teaches far more than one of the MLPs, with more and larger steps; the
        # fourth epoch is for drawings (README, "Drawn digits").
        ModelSpec(
            "cnn",
            "small CNN for drawings: two conv blocks → Linear(512→64) → ReLU → Linear(64→10) → softmax",
            lenet,
            flux_init=False,
            epochs=4,
            batch_size=64,
            lr=1e-3,
        ),
        # The cnn as it reads drawings best in about two minutes on one CPU thread (README, "Drawn
        # digits"): augmented, under a one-cycle learning rate.
        ModelSpec(
            "draw",
            "the cnn trained for drawings: warped training digits, a one-cycle learning rate peaking at 3e-3",
            lenet,
            flux_init=False,
            epochs=4,
            batch_size=64,
            lr=3e-3,
            augment=True,
            one_cycle=True,
        ),
    )
}
DEFAULT_PRESET = "seed"  # the notebook's model


def preset(name: str) -> ModelSpec:
    """The preset called `name`; ValueError naming the choices otherwise."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(PRESETS)}") from None


@torch.no_grad()
def _initialise(model: nn.Module, flux_init: bool, generator: torch.Generator | None) -> None:
    """Draw every weight from `generator`, not torch's global RNG, so that sessions in threads stay
    independent and reproducible."""
    for layer in model.modules():
        if not isinstance(layer, (nn.Linear, nn.Conv2d)):
            continue
        if flux_init:
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            nn.init.zeros_(layer.bias)
        else:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.weight[0].numel())
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def build_model(name: str, generator: torch.Generator | None = None) -> nn.Module:
    """A freshly initialised model of the preset `name`."""
    spec = preset(name)
    model = spec.architecture()
    _initialise(model, spec.flux_init, generator)
    return model
