"""The cnn preset: its own training defaults, the CLI using them, and augmentation's hand wobble."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from mnistdemo import augment
from mnistdemo.cli import main
from mnistdemo.training import PRESET_DEFAULTS, TrainConfig


def test_presets_without_their_own_defaults_train_like_the_notebook():
    assert TrainConfig.for_model("seed") == TrainConfig()
    assert TrainConfig.for_model("zoo") == TrainConfig(model="zoo")


def test_cnn_defaults_and_changes_on_top():
    cnn = TrainConfig.for_model("cnn")
    assert cnn.model == "cnn"
    assert {name: getattr(cnn, name) for name in PRESET_DEFAULTS["cnn"]} == PRESET_DEFAULTS["cnn"]
    assert cnn.epochs < TrainConfig().epochs and cnn.lr > TrainConfig().lr
    changed = TrainConfig.for_model("cnn", epochs=7, augment=True)
    assert (changed.epochs, changed.augment, changed.lr) == (7, True, cnn.lr)


def test_cli_trains_the_cnn_with_its_defaults_unless_told(synthetic_data_dir, capsys, single_thread):
    assert main(["train", "--model", "cnn", "--augment", "--json", "--data-dir", str(synthetic_data_dir)]) == 0
    *epochs, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = TrainConfig.for_model("cnn", augment=True)
    assert len(epochs) == expected.epochs
    assert (summary["model"], summary["epochs"], summary["lr"], summary["batch_size"], summary["augment"]) == (
        "cnn", expected.epochs, expected.lr, expected.batch_size, True)

    assert main(["train", "--model", "cnn", "--epochs", "1", "--lr", "0.01", "--json", "--data-dir", str(synthetic_data_dir)]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (summary["epochs"], summary["lr"]) == (1, 0.01)


def test_wobble_is_a_small_smooth_displacement():
    field = augment.wobble(64, torch.zeros(1), torch.Generator().manual_seed(0))
    assert field.shape == (64, 28, 28, 2)
    largest = augment.MAX_WOBBLE_PX * 2 / 28  # in affine_grid's [-1, 1] units
    assert 0.5 * largest < field.abs().max() <= largest + 1e-6
    # neighbouring pixels move together: a waver along the stroke, not noise
    step = (field[:, 1:] - field[:, :-1]).abs().max()
    assert step <= largest * 2 / ((28 - 1) / (augment.WOBBLE_GRID - 1)) + 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_augmented_digits_keep_their_ink(synthetic_data, seed):
    images = synthetic_data.train_images[:64]
    warped = augment.augment_batch(images, torch.Generator().manual_seed(seed))
    # warps move and thicken or thin strokes but never wipe a digit out
    assert (warped.sum(dim=(1, 2)) > 0.3 * images.sum(dim=(1, 2))).all()


def test_fast_neighbourhood_max_is_max_pool():
    images = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert torch.equal(augment._max_3x3(images), F.max_pool2d(images, 3, stride=1, padding=1))
    assert torch.equal(-augment._max_3x3(-images), -F.max_pool2d(-images, 3, stride=1, padding=1))
