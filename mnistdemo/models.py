"""Models: the notebook's network, the model zoo's variant, and a small CNN for drawings.

Every model takes images (N, 28, 28) and returns log-probabilities (N, 10); `exp` of the output is
the probability vector the notebook plots. Log space keeps the cross-entropy exact and stable:
for the seed model log_softmax(sigmoid(z)) is exactly log(softmax(sigmoid(z))).
"""

from __future__ import annotations

import math

import torch
from torch import nn

MODEL_NAMES = ("seed", "zoo", "cnn")
MODEL_DESCRIPTIONS = {
    "seed": "the notebook: Linear(784→32) → sigmoid → Linear(32→10) → sigmoid → softmax",
    "zoo": "FluxML model zoo: Linear(784→32) → sigmoid → Linear(32→10) → softmax",
    "cnn": "small CNN for drawings: two conv blocks → Linear(512→64) → ReLU → Linear(64→10) → softmax",
}
# softmax over ten values each squashed into (0, 1) by a sigmoid: the largest share one can get is
# e / (e + 9), when it sits at 1 and the other nine at 0.
SEED_PROBABILITY_CAP = math.e / (math.e + 9)


def _mlp(output_sigmoid: bool) -> nn.Sequential:
    layers = [nn.Flatten(), nn.Linear(784, 32), nn.Sigmoid(), nn.Linear(32, 10)]
    if output_sigmoid:
        layers.append(nn.Sigmoid())
    layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers)


def _cnn() -> nn.Sequential:
    # LeNet-like: unpadded 5×5 convolutions cost half of padded ones here, and lose only the border,
    # which MNIST's 20×20 box in 28×28 leaves empty anyway.
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


def _architecture(name: str) -> nn.Sequential:
    if name == "seed":
        return _mlp(output_sigmoid=True)
    if name == "zoo":
        return _mlp(output_sigmoid=False)
    if name == "cnn":
        return _cnn()
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


@torch.no_grad()
def _initialise(model: nn.Module, flux_style: bool, generator: torch.Generator | None) -> None:
    """Draw every weight from `generator`, not torch's global RNG, so that sessions in threads
    stay independent and reproducible. The MLPs use Flux's Dense default (Glorot-uniform weights,
    zero bias), as the notebook did; the CNN uses PyTorch's default scheme."""
    for layer in model.modules():
        if not isinstance(layer, (nn.Linear, nn.Conv2d)):
            continue
        if flux_style:
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            nn.init.zeros_(layer.bias)
        else:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.weight[0].numel())
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def build_model(name: str, generator: torch.Generator | None = None) -> nn.Module:
    """A freshly initialised model by preset name (see MODEL_NAMES)."""
    model = _architecture(name)
    _initialise(model, flux_style=name in ("seed", "zoo"), generator=generator)
    return model
