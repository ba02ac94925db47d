"""Replay: the job keeps the weights after every epoch, thinned evenly past a budget, and a kept
epoch's model predicts exactly as the weights saved at that epoch."""

from __future__ import annotations

import time

import numpy as np
import torch

from mnistdemo.checkpoint import load_model, save_checkpoint
from mnistdemo.config import TrainConfig
from mnistdemo.inference import predict_proba
from mnistdemo.jobs import TrainingJob
from mnistdemo.models import build_model
from mnistdemo.replay import EpochWeights, keep, rebuild, weights_of
from mnistdemo.training import Trainer

CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.01, seed=3)


def states(epochs: list[int], size: int = 1) -> tuple[EpochWeights, ...]:
    return tuple(EpochWeights(epoch, {"w": torch.zeros(size)}, epoch) for epoch in epochs)


def test_every_epoch_is_kept_while_the_budget_allows():
    kept = states([0])
    for epoch in range(1, 10):
        kept = keep(kept, states([epoch])[0], budget=10 * 4)
    assert [weights.epoch for weights in kept] == list(range(10))
    assert kept[3].nbytes == 4


def test_past_the_budget_the_spacing_is_thinned_evenly_keeping_epoch_0_1_and_the_newest():
    kept = states([0])
    for epoch in range(1, 101):
        kept = keep(kept, states([epoch])[0], budget=12 * 4)
    epochs = [weights.epoch for weights in kept]
    assert len(epochs) == 12 and epochs[:2] == [0, 1] and epochs[-1] == 100
    gaps = np.diff(epochs[1:])
    assert gaps.max() <= 2 * gaps.min() + 1, epochs  # about even, however long the run


def test_the_epoch_with_the_closest_neighbours_goes_first_the_oldest_of_equals():
    kept = keep(states([0, 1, 2, 3, 5, 6]), states([7])[0], budget=6 * 4)
    assert [weights.epoch for weights in kept] == [0, 1, 3, 5, 6, 7]  # 2 sits between 1 and 3: gap 2, the oldest


def wait_until_done(job: TrainingJob) -> None:
    deadline = time.monotonic() + 60
    while job.snapshot().active or job.is_running():
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.01)


def test_replaying_epoch_k_predicts_exactly_as_the_weights_saved_at_epoch_k(synthetic_data, single_thread, tmp_path):
    job = TrainingJob(synthetic_data, CONFIG, device=torch.device("cpu"))
    job.start(CONFIG)
    wait_until_done(job)
    snapshot = job.snapshot()
    assert [weights.epoch for weights in snapshot.epoch_weights] == [0, 1, 2, 3]

    trainer = Trainer(synthetic_data, CONFIG, torch.device("cpu"))  # the same run, saved after each epoch
    images = synthetic_data.test_images.numpy()
    for weights in snapshot.epoch_weights:
        if weights.epoch:
            trainer.run(1)
        path = tmp_path / f"epoch{weights.epoch}.pt"
        save_checkpoint(path, trainer.model, trainer.config, trainer.history)
        replayed = rebuild(snapshot.config.model, weights)
        np.testing.assert_array_equal(predict_proba(replayed, images), predict_proba(load_model(path), images))
    np.testing.assert_array_equal(predict_proba(replayed, images), job.predict_proba(images))  # the last is now


def test_the_snapshot_carries_the_weights_of_its_version_and_a_reset_starts_replay_over(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG, device=torch.device("cpu"))
    first = job.snapshot()
    assert [weights.epoch for weights in first.epoch_weights] == [0]
    assert first.epoch_weights[0].version == first.weights_version
    job.start(CONFIG)
    wait_until_done(job)
    job.reset(TrainConfig(seed=4))
    again = job.snapshot()
    assert [weights.epoch for weights in again.epoch_weights] == [0]
    assert again.weights_version > first.weights_version and again.epoch_weights[0].version == again.weights_version
    fresh = build_model("seed", torch.Generator().manual_seed(4))
    images = synthetic_data.test_images.numpy()
    np.testing.assert_array_equal(predict_proba(again.model, images), predict_proba(fresh, images))
    untrained = rebuild("seed", again.epoch_weights[0])
    np.testing.assert_array_equal(predict_proba(untrained, images), job.predict_proba(images))


def test_weights_of_a_model_on_the_cpu_share_its_tensors_and_stay_apart_from_later_training():
    model = build_model("seed")
    weights = weights_of(model, 0, 0)
    assert weights.state["1.weight"].data_ptr() == model[1].weight.data_ptr()  # no copy: the caller never trains it
    assert weights.nbytes == 4 * sum(parameter.numel() for parameter in model.parameters())
