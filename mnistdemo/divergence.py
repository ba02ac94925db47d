"""Divergence: telling that a run is not learning, and what to change (README, "Reliability").

Two signs, both cheap: a batch's loss that is not a number (the Trainer stops before that batch's
step, so the weights stay the last finite ones), and an epoch after which the model is no better
than chance. A pure function of the settings and the history; the page and the command line word it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .config import TrainConfig
from .models import preset
from .training import Diverged, EpochResult

CHANCE_LOSS = math.log(10)  # the cross-entropy of a uniform guess among ten digits
NOT_LEARNING_BELOW = 20.0  # test accuracy (%) after a whole epoch that counts as chance (10 %)
LOSS_JUMP = 1.5  # a batch loss this many times the first one: the steps overshoot


@dataclass(frozen=True)
class Trouble:
    """Why a run is not learning: what was seen, and whether the learning rate is too high (else the
    steps are too small or too few)."""

    what: str
    too_high: bool
    lr: float
    suggested_lr: float | None  # None: no other rate to suggest (fewer per batch and more epochs help)


def diagnose(
    config: TrainConfig,
    history: Sequence[EpochResult],
    batch_losses: Sequence[float],
    not_finite: Diverged | None = None,
) -> Trouble | None:
    """Whether the model trained with `config` is not learning, and why; None when it is learning.

    `history` and `batch_losses` are the model's, every epoch and every batch so far. A non-finite
    loss means a rate far too high. After an epoch no better than chance, a batch loss that jumped
    well above the first one means overshooting steps (a rate too high); a loss that crept down
    means steps too small or too few.
    """
    usual = preset(config.model).lr
    if not_finite is not None:
        return Trouble(str(not_finite), True, config.lr, usual if config.lr > usual else config.lr / 10)
    if not history:
        return None
    last = history[-1]
    if last.test_acc < NOT_LEARNING_BELOW:
        what = f"after epoch {last.epoch} the model is no better than chance ({last.test_acc:.2f} % of the test digits)"
    elif last.loss > CHANCE_LOSS:
        what = f"after epoch {last.epoch} the loss is {last.loss:.2f}, worse than a uniform guess ({CHANCE_LOSS:.2f})"
    else:
        return None
    if len(batch_losses) and max(batch_losses) > LOSS_JUMP * batch_losses[0]:
        return Trouble(what, True, config.lr, usual if config.lr > usual else config.lr / 10)
    return Trouble(what, False, config.lr, usual if config.lr < usual else None)
