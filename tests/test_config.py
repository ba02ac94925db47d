"""TrainConfig: each preset's usual settings, every limit checked on construction, and the rule for
new weights."""

from __future__ import annotations

import pytest

from mnistdemo.config import MAX_SEED, TrainConfig
from mnistdemo.data import TRAIN_SIZE
from mnistdemo.models import PRESETS


def test_defaults_are_the_notebooks():
    config = TrainConfig()
    assert (config.model, config.epochs, config.batch_size, config.lr, config.augment) == ("seed", 30, 256, 3e-4, False)
    assert TrainConfig.for_model("seed") == config


@pytest.mark.parametrize("name", PRESETS)
def test_for_model_takes_the_presets_settings_and_changes_on_top(name):
    spec = PRESETS[name]
    config = TrainConfig.for_model(name)
    assert (config.model, config.epochs, config.batch_size, config.lr, config.augment) == (
        name,
        spec.epochs,
        spec.batch_size,
        spec.lr,
        spec.augment,
    )
    changed = TrainConfig.for_model(name, epochs=7, augment=True, seed=3)
    assert (changed.epochs, changed.augment, changed.seed, changed.lr) == (7, True, 3, spec.lr)


BAD = {
    "model": ("mlp", "unknown model 'mlp'"),
    "epochs": (0, "epochs must be at least 1, got 0"),
    "batch_size": (TRAIN_SIZE + 1, f"batch size must be at most {TRAIN_SIZE} \\(the training set's size\\)"),
    "lr": (0.0, "learning rate must be above 0, got 0"),
    "seed": (MAX_SEED + 1, f"random seed must be at most {MAX_SEED}, got {MAX_SEED + 1}"),
    "augment": (2, "augmentation must be on or off"),
}


@pytest.mark.parametrize("name", BAD)
def test_every_setting_is_checked_on_construction(name):
    value, message = BAD[name]
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{name: value})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("epochs", 2.5, "epochs must be a whole number"),
        ("epochs", True, "epochs must be a whole number"),
        ("lr", float("nan"), "learning rate must be a finite number"),
        ("lr", "fast", "learning rate must be a number"),
        ("lr", 11, "learning rate must be at most 10"),
        ("seed", 10**23, "random seed must be at most"),
        ("seed", -1, "random seed must be at least 0"),
    ],
)
def test_wrong_types_and_values_say_what_is_wrong(name, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.check(name, value)


def test_check_hands_back_the_settings_own_type():
    assert TrainConfig.check("lr", 1) == 1.0 and isinstance(TrainConfig.check("lr", 1), float)
    assert TrainConfig.check("augment", 1) is True
    assert TrainConfig(batch_size=TRAIN_SIZE).batch_size == TRAIN_SIZE


def test_limits_and_labels_come_from_the_fields():
    assert TrainConfig.names() == ("model", "epochs", "batch_size", "lr", "seed", "augment")
    assert TrainConfig.label("batch_size") == "batch size"
    assert (TrainConfig.limits("epochs").low, TrainConfig.limits("epochs").high) == (1, 100)


def test_only_another_preset_or_seed_needs_new_weights():
    config = TrainConfig()
    assert not config.needs_new_weights(TrainConfig(epochs=3, batch_size=64, lr=1e-2, augment=True))
    assert config.needs_new_weights(TrainConfig(model="zoo"))
    assert config.needs_new_weights(TrainConfig(seed=1))
