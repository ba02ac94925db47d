"""Checkpoints: the weights plus what is needed to rebuild the model, loadable with weights_only."""

from __future__ import annotations

import os
from dataclasses import asdict, fields

import torch
from torch import nn

from .config import TrainConfig
from .models import build_model
from .training import EpochResult

FORMAT = "mnistdemo-checkpoint/1"


class CheckpointError(Exception):
    """The file is not a checkpoint this version can read; the message says why."""


def save_checkpoint(path: str | os.PathLike, model: nn.Module, config: TrainConfig, history: list[EpochResult]) -> None:
    """The weights, the settings of the run that trained them last, and every epoch's numbers."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(
        {"format": FORMAT, "config": asdict(config), "history": [r.as_dict() for r in history], "state_dict": state},
        path,
    )


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, TrainConfig, list[EpochResult]]:
    """The model (on the CPU, in eval mode), the config it last trained with, and its history."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except Exception as error:  # a foreign file can fail torch.load in many ways; weights_only runs none of its code
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(error).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a mnistdemo checkpoint (expected format {FORMAT})")
    try:
        known = {f.name for f in fields(TrainConfig)}
        config = TrainConfig(**{k: v for k, v in saved["config"].items() if k in known})
        model = build_model(config.model)
        state = saved["state_dict"]
        _check_weights(state, model, config.model, path)
        model.load_state_dict(state)
        history = [EpochResult(**row) for row in saved["history"]]
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise CheckpointError(f"{path} is damaged: {str(error).splitlines()[0]}") from None
    return model.eval(), config, history


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(map(str, tensor.shape)) or "a single number"


def _check_weights(state: object, model: nn.Module, name: str, path: str | os.PathLike) -> None:
    """Refuse, in one line, weights of another network than the `name` model, or weights that are no numbers."""
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise CheckpointError(f"{path} is damaged: its weights are not a table of tensors")
    expected = model.state_dict()
    for layer, tensor in expected.items():
        if layer not in state:
            raise CheckpointError(f"{path} holds another network than the {name} model it names: no weights {layer}")
        if state[layer].shape != tensor.shape:
            raise CheckpointError(
                f"{path} holds another network than the {name} model it names: its {layer} is "
                f"{_shape(state[layer])}, the {name} model's is {_shape(tensor)}"
            )
    extra = [layer for layer in state if layer not in expected]
    if extra:
        raise CheckpointError(f"{path} holds another network than the {name} model it names: extra weights {extra[0]}")
    broken = [layer for layer, tensor in state.items() if not torch.isfinite(tensor).all()]
    if broken:
        raise CheckpointError(
            f"{path} holds weights that are not numbers (nan or infinity in {broken[0]}), as a diverged run leaves "
            "them: it cannot recognise anything"
        )


def load_model(path: str | os.PathLike) -> nn.Module:
    """The trained model saved at `path`, ready for `predict_proba`."""
    return load_checkpoint(path)[0]
