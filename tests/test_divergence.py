"""Telling that a run is not learning, and why, from its settings and history (pure functions)."""

import pytest

from mnistdemo.config import TrainConfig
from mnistdemo.divergence import CHANCE_LOSS, NOT_LEARNING_BELOW, diagnose
from mnistdemo.training import Diverged, EpochResult

LEARNING = [EpochResult(1, 0.9, 80.0, 81.0, 0.5)]
CHANCE = [EpochResult(1, 2.3071, 9.8, 9.74, 36.0)]  # the cnn at lr 0.1 after an epoch
OVERSHOT = [2.31, 145.3, 23.3, 2.31]  # its first batch losses: the first step overshoots
CREEPING = [2.319, 2.318, 2.316, 2.313]  # the seed model at lr 1e-5: the loss creeps down


def test_a_learning_run_has_no_trouble():
    assert diagnose(TrainConfig(), LEARNING, [2.3, 1.5, 0.9]) is None
    assert diagnose(TrainConfig(), [], []) is None  # nothing to judge before the first epoch


def test_chance_after_overshooting_steps_is_a_rate_too_high():
    trouble = diagnose(TrainConfig.for_model("cnn", lr=0.1), CHANCE, OVERSHOT)
    assert trouble.too_high and trouble.lr == 0.1
    assert trouble.suggested_lr == TrainConfig.for_model("cnn").lr  # the preset's usual rate
    assert trouble.what == "after epoch 1 the model is no better than chance (9.74 % of the test digits)"


def test_a_loss_worse_than_a_uniform_guess_counts_even_above_chance_accuracy():
    # `train --model zoo --lr 10`: 22.89 % of the test digits right, but a loss of 9.39
    history = [EpochResult(1, 9.3944, 22.75, 22.89, 0.6)]
    trouble = diagnose(TrainConfig(model="zoo", lr=10.0), history, [2.495, 96.5, 138.0])
    assert trouble.too_high and trouble.suggested_lr == 3e-4
    assert trouble.what == f"after epoch 1 the loss is 9.39, worse than a uniform guess ({CHANCE_LOSS:.2f})"


def test_chance_with_a_creeping_loss_is_steps_too_small():
    trouble = diagnose(TrainConfig(lr=1e-5, batch_size=4096), CHANCE, CREEPING)
    assert not trouble.too_high and trouble.suggested_lr == 3e-4
    at_the_usual_rate = diagnose(TrainConfig(batch_size=4096), CHANCE, CREEPING)
    assert not at_the_usual_rate.too_high and at_the_usual_rate.suggested_lr is None  # more epochs, smaller batches


@pytest.mark.parametrize("lr, suggested", [(10.0, 3e-4), (3e-4, 3e-5)])
def test_a_loss_that_is_not_a_number_is_a_rate_too_high(lr, suggested):
    trouble = diagnose(TrainConfig(lr=lr), LEARNING, [2.3, 0.9], Diverged(2, 17, "loss", float("nan")))
    assert trouble.too_high and trouble.suggested_lr == pytest.approx(suggested)
    assert trouble.what == "the loss became nan in epoch 2, batch 17"


def test_only_the_latest_epoch_counts():
    recovered = [*CHANCE, EpochResult(2, 0.5, NOT_LEARNING_BELOW + 60, NOT_LEARNING_BELOW + 60, 70.0)]
    assert diagnose(TrainConfig.for_model("cnn", lr=0.1), recovered, OVERSHOT) is None
