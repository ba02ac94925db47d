"""Checkpoints: the weights plus what is needed to rebuild the model, loadable with weights_only."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import BinaryIO

import torch
from torch import nn

from .config import TrainConfig
from .models import build_model
from .training import EpochResult, restore_generator, restore_optimizer

FORMAT = "mnistdemo-checkpoint/1"


class CheckpointError(Exception):
    """The file is not a checkpoint this version can read; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    """A saved model, checked: it rebuilds, and its weights and training state fit its preset."""

    model: nn.Module  # on the CPU, in eval mode
    config: TrainConfig  # the settings it last trained with
    history: list[EpochResult]
    name: str = ""  # as given when saved into a library
    saved_at: str = ""  # ISO 8601 with the time zone; empty in files written before it was kept
    training: dict | None = None  # `Trainer.training_state()`, so that training continues where it stopped

    @property
    def test_acc(self) -> float | None:
        return self.history[-1].test_acc if self.history else None


def save_checkpoint(
    destination: str | os.PathLike | BinaryIO,
    model: nn.Module,
    config: TrainConfig,
    history: list[EpochResult],
    name: str = "",
    training: dict | None = None,
) -> None:
    """The weights, the settings of the run that trained them last, every epoch's numbers, the date,
    and (given `training`) the optimizer and generator state."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    saved = {
        "format": FORMAT,
        "config": asdict(config),
        "history": [r.as_dict() for r in history],
        "state_dict": state,
        "name": name,
        "saved_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    if training is not None:
        saved["training"] = training
    torch.save(saved, destination)


def read_checkpoint(source: str | os.PathLike | BinaryIO, label: str | None = None) -> Checkpoint:
    """A checkpoint from a path or an open binary file, checked through; `label` names it in messages.

    Loaded with `weights_only=True`: a file can hold only tensors and plain values, and none of its
    code runs."""
    label = label or str(source)
    try:
        saved = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {label}") from None
    except Exception as error:  # a foreign file can fail torch.load in many ways; weights_only runs none of its code
        raise CheckpointError(f"{label} is not a readable checkpoint ({type(error).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise CheckpointError(f"{label} is not a mnistdemo checkpoint (expected format {FORMAT})")
    try:
        known = {f.name for f in fields(TrainConfig)}
        config = TrainConfig(**{k: v for k, v in saved["config"].items() if k in known})
        model = build_model(config.model)
        state = saved["state_dict"]
        _check_weights(state, model, config.model, label)
        model.load_state_dict(state)
        history = [EpochResult(**row) for row in saved["history"]]
        training = saved.get("training")
        name, saved_at = str(saved.get("name", "")), str(saved.get("saved_at", ""))
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise CheckpointError(f"{label} is damaged: {str(error).splitlines()[0]}") from None
    try:
        if training is not None:
            restore_optimizer(model, config.lr, training.get("optimizer"))
            restore_generator(torch.Generator(), training.get("generator"))
    except (ValueError, AttributeError) as error:
        raise CheckpointError(f"{label} is damaged: {error}") from None
    return Checkpoint(model.eval(), config, history, name, saved_at, training)


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, TrainConfig, list[EpochResult]]:
    """The model (on the CPU, in eval mode), the config it last trained with, and its history."""
    checkpoint = read_checkpoint(path)
    return checkpoint.model, checkpoint.config, checkpoint.history


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(map(str, tensor.shape)) or "a single number"


def _check_weights(state: object, model: nn.Module, name: str, label: str) -> None:
    """Refuse, in one line, weights of another network than the `name` model, or weights that are no numbers."""
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise CheckpointError(f"{label} is damaged: its weights are not a table of tensors")
    expected = model.state_dict()
    for layer, tensor in expected.items():
        if layer not in state:
            raise CheckpointError(f"{label} holds another network than the {name} model it names: no weights {layer}")
        if state[layer].shape != tensor.shape:
            raise CheckpointError(
                f"{label} holds another network than the {name} model it names: its {layer} is "
                f"{_shape(state[layer])}, the {name} model's is {_shape(tensor)}"
            )
    extra = [layer for layer in state if layer not in expected]
    if extra:
        raise CheckpointError(f"{label} holds another network than the {name} model it names: extra weights {extra[0]}")
    broken = [layer for layer, tensor in state.items() if not torch.isfinite(tensor).all()]
    if broken:
        raise CheckpointError(
            f"{label} holds weights that are not numbers (nan or infinity in {broken[0]}), as a diverged run leaves "
            "them: it cannot recognise anything"
        )


def load_model(path: str | os.PathLike) -> nn.Module:
    """The trained model saved at `path`, ready for `predict_proba`."""
    return load_checkpoint(path)[0]
