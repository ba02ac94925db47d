"""Config: the settings of a training run, checked when it is made.

Each setting's label and limits live in its field's metadata: the CLI's argument checks and the
page's sliders read them from here, and no TrainConfig outside them can exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import Any

from .data import TRAIN_SIZE
from .models import DEFAULT_PRESET, PRESETS, preset

MAX_SEED = 2**31 - 1  # what every random-number generator involved accepts


@dataclass(frozen=True)
class Limits:
    """The allowed range of a number; `low_open` excludes `low` itself."""

    low: float
    high: float
    low_open: bool = False
    high_why: str = ""  # said when a value is too large

    def check(self, label: str, value: float) -> None:
        if value < self.low or (self.low_open and value == self.low):
            bound = "above" if self.low_open else "at least"
            raise ValueError(f"{label} must be {bound} {_show(self.low)}, got {_show(value)}")
        if value > self.high:
            why = f" ({self.high_why})" if self.high_why else ""
            raise ValueError(f"{label} must be at most {_show(self.high)}{why}, got {_show(value)}")


def _show(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _setting(default: Any, label: str, limits: Limits | None = None, from_preset: bool = False, short: str = "") -> Any:
    metadata = {"label": label, "limits": limits, "from_preset": from_preset, "short": short}
    return field(default=default, metadata=metadata)


_DEFAULT = PRESETS[DEFAULT_PRESET]


@dataclass(frozen=True)
class TrainConfig:
    """What a run trains and how; the defaults are the notebook's (see `for_model` for each preset's)."""

    model: str = _setting(DEFAULT_PRESET, "model")
    epochs: int = _setting(_DEFAULT.epochs, "epochs", Limits(1, 100), from_preset=True, short="epochs")
    batch_size: int = _setting(
        _DEFAULT.batch_size,
        "batch size",
        Limits(1, TRAIN_SIZE, high_why="the training set's size"),
        from_preset=True,
        short="batch",
    )
    lr: float = _setting(_DEFAULT.lr, "learning rate", Limits(0, 10, low_open=True), from_preset=True, short="lr")
    seed: int = _setting(0, "random seed", Limits(0, MAX_SEED), short="seed")
    augment: bool = _setting(_DEFAULT.augment, "augmentation", from_preset=True, short="augment")

    def __post_init__(self) -> None:
        preset(self.model)  # raises for an unknown name
        for setting in fields(self):
            if setting.name != "model":
                object.__setattr__(self, setting.name, self.check(setting.name, getattr(self, setting.name)))

    @classmethod
    def check(cls, name: str, value: Any) -> Any:
        """`value` as setting `name` holds it (int, float or bool); ValueError saying what is wrong."""
        setting = next(f for f in fields(cls) if f.name == name)
        label, limits = setting.metadata["label"], setting.metadata["limits"]
        kind = type(setting.default)
        if kind is bool:
            if not isinstance(value, (bool, Integral)) or value not in (0, 1):
                raise ValueError(f"{label} must be on or off, got {value!r}")
            return bool(value)
        if isinstance(value, bool) or not isinstance(value, Integral if kind is int else Real):
            raise ValueError(f"{label} must be {'a whole number' if kind is int else 'a number'}, got {value!r}")
        value = kind(value)
        if not math.isfinite(value):
            raise ValueError(f"{label} must be a finite number, got {value}")
        limits.check(label, value)
        return value

    @classmethod
    def for_model(cls, model: str, **changes: Any) -> TrainConfig:
        """A preset's usual settings, with `changes` on top."""
        spec = preset(model)
        usual = {f.name: getattr(spec, f.name) for f in fields(cls) if f.metadata["from_preset"]}
        return cls(model=model, **{**usual, **changes})

    @staticmethod
    def label(name: str) -> str:
        """How people call setting `name` ("batch size")."""
        return next(f.metadata["label"] for f in fields(TrainConfig) if f.name == name)

    @staticmethod
    def short_label(name: str) -> str:
        """The setting's name in a chart's legend ("batch"); empty where the value says it ("zoo")."""
        return next(f.metadata["short"] for f in fields(TrainConfig) if f.name == name)

    @staticmethod
    def limits(name: str) -> Limits:
        return next(f.metadata["limits"] for f in fields(TrainConfig) if f.name == name)

    @staticmethod
    def names() -> tuple[str, ...]:
        """Every setting, in the order people read them."""
        return tuple(f.name for f in fields(TrainConfig))

    def needs_new_weights(self, other: TrainConfig) -> bool:
        """Whether going from this config to `other` starts over: a different preset or random seed
        means other weights; every other setting applies to the weights there are."""
        return (self.model, self.seed) != (other.model, other.seed)
