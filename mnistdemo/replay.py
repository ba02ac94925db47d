"""Replay: the weights after every epoch of a session's training, so that the page can show the
model as it was at epoch k.

Each kept epoch is a CPU state dict that nothing changes afterwards. A session keeps at most
`BUDGET_BYTES` of them: every epoch while they fit (all of the notebook's 30 epochs), then the
spacing is thinned evenly, always keeping the untrained weights (epoch 0), epoch 1 and the newest.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .models import build_model

BUDGET_BYTES = 4 * 2**20  # per session: the MLPs' 31 states of a 30-epoch run, the cnn's first 21 epochs
ALWAYS_KEPT = (0, 1)  # the untrained model and the young one: "how did epoch 1 read my 7?"


@dataclass(frozen=True)
class EpochWeights:
    epoch: int  # 0: the weights before any training
    state: dict[str, torch.Tensor]  # on the CPU; never changed
    version: int  # the job's weights_version when these were its weights: a key for caches

    @property
    def nbytes(self) -> int:
        return sum(tensor.numel() * tensor.element_size() for tensor in self.state.values())


def weights_of(model: nn.Module, epoch: int, version: int) -> EpochWeights:
    """The model's weights now, detached onto the CPU (shared, not copied, when already there: the
    caller must not train `model` afterwards)."""
    return EpochWeights(epoch, {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}, version)


def keep(kept: tuple[EpochWeights, ...], new: EpochWeights, budget: int = BUDGET_BYTES) -> tuple[EpochWeights, ...]:
    """`kept` with `new` added, thinned to fit `budget`: while too large, drop the epoch whose
    neighbours are closest together (the oldest of equals), never epoch 0, epoch 1 or the newest."""
    kept = (*kept, new)
    while sum(weights.nbytes for weights in kept) > budget and len(kept) > len(ALWAYS_KEPT) + 1:
        droppable = [position for position in range(1, len(kept) - 1) if kept[position].epoch not in ALWAYS_KEPT]
        if not droppable:
            break
        gap = min(droppable, key=lambda position: kept[position + 1].epoch - kept[position - 1].epoch)
        kept = kept[:gap] + kept[gap + 1 :]
    return kept


def rebuild(model_name: str, weights: EpochWeights) -> nn.Module:
    """A model of preset `model_name` holding `weights`, on the CPU, in evaluation mode."""
    model = build_model(model_name)
    model.load_state_dict(weights.state)
    return model.eval()
