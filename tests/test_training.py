import itertools
import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mnistdemo import training
from mnistdemo.config import TrainConfig
from mnistdemo.models import PRESETS, build_model
from mnistdemo.training import (
    BatchReport,
    Diverged,
    EpochResult,
    RunClock,
    Trainer,
    TrainingOutOfMemory,
    crossentropy,
    evaluate,
    one_cycle_lr,
)

pytestmark = pytest.mark.usefixtures("single_thread")

CPU = torch.device("cpu")
FAST = TrainConfig(batch_size=32, lr=1e-2)  # tiny data needs bigger steps than the notebook's
BATCHES_PER_EPOCH = 10  # 300 synthetic training images in batches of 32


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in trainer.model.state_dict().items()}


def assert_same_weights(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def without_times(history: list[EpochResult]) -> list[tuple]:
    return [(r.epoch, r.loss, r.train_acc, r.test_acc) for r in history]


def notebook_loss(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The notebook's loss written out in float64 NumPy from the seed model's weights:
    mean over samples of -log(softmax(sigmoid(W2 sigmoid(W1 x + b1) + b2)))[label]."""
    w1, b1, w2, b2 = (
        p.detach().double().numpy() for p in (model[1].weight, model[1].bias, model[3].weight, model[3].bias)
    )
    x = images.reshape(len(images), 784).double().numpy()

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    scores = sigmoid(sigmoid(x @ w1.T + b1) @ w2.T + b2)
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return float(np.mean(-np.log(probabilities[np.arange(len(labels)), labels.numpy()])))


def test_loss_is_the_notebooks_formula(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    trainer.run(2)
    model, images, labels = trainer.model, synthetic_data.train_images, synthetic_data.train_labels

    expected = notebook_loss(model, images, labels)

    with torch.no_grad():
        assert crossentropy(model(images), labels).item() == pytest.approx(expected, rel=1e-5)
    assert evaluate(model, images, labels)[0] == pytest.approx(expected, rel=1e-5)
    assert trainer.history[-1].loss == pytest.approx(expected, abs=5e-5)  # reported rounded to 4 places


def test_evaluate_reports_accuracy_in_percent(synthetic_data):
    model = build_model("seed", torch.Generator().manual_seed(0))
    images, labels = synthetic_data.test_images, synthetic_data.test_labels
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)

    _, accuracy = evaluate(model, images, labels)

    assert accuracy == pytest.approx(100 * (predicted == labels).float().mean().item())
    assert model.training, "evaluate must leave the model in the mode it found it"


@pytest.mark.parametrize("model", ["seed", "zoo"])
def test_training_reduces_the_loss(synthetic_data, model):
    trainer = Trainer(synthetic_data, TrainConfig(model=model, batch_size=32, lr=1e-2), CPU)
    initial_loss, _ = evaluate(trainer.model, trainer.train_images, trainer.train_labels)

    history = trainer.run(5)

    losses = [initial_loss] + [r.loss for r in history]
    assert all(later < earlier for earlier, later in itertools.pairwise(losses)), losses
    assert history[-1].train_acc >= 90 and history[-1].test_acc >= 90


def test_run_reports_every_batch_and_epoch(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    batches: list[BatchReport] = []
    epochs: list[EpochResult] = []

    returned = trainer.run(2, on_batch=batches.append, on_epoch=epochs.append)

    assert returned == epochs == trainer.history
    assert [r.epoch for r in epochs] == [1, 2] and trainer.epochs_done == 2
    assert [(b.epoch, b.batch) for b in batches] == [(e, b) for e in (1, 2) for b in range(1, BATCHES_PER_EPOCH + 1)]
    assert all(b.batches == BATCHES_PER_EPOCH and b.loss > 0 for b in batches)
    assert 0 < epochs[0].elapsed_s <= epochs[1].elapsed_s
    assert not trainer.epoch_in_progress


def test_run_defaults_to_the_configs_epochs(synthetic_data):
    trainer = Trainer(synthetic_data, TrainConfig(epochs=2, batch_size=64), CPU)
    assert len(trainer.run()) == 2


@pytest.mark.parametrize("augment", [False, True])
def test_same_seed_same_training(synthetic_data, augment):
    config = TrainConfig(batch_size=32, lr=1e-2, seed=7, augment=augment)
    first, second = Trainer(synthetic_data, config, CPU), Trainer(synthetic_data, config, CPU)

    first.run(2)
    second.run(2)

    assert_same_weights(weights(first), weights(second))
    assert without_times(first.history) == without_times(second.history)


def test_different_seed_different_weights(synthetic_data):
    first = Trainer(synthetic_data, TrainConfig(seed=1), CPU)
    second = Trainer(synthetic_data, TrainConfig(seed=2), CPU)
    assert not torch.equal(first.model[1].weight, second.model[1].weight)


def stop_at(stop: threading.Event, epoch: int, batch: int, seen: list[BatchReport]):
    def on_batch(report: BatchReport) -> None:
        seen.append(report)
        if (report.epoch, report.batch) == (epoch, batch):
            stop.set()

    return on_batch


@pytest.mark.parametrize("augment", [False, True])
def test_stopped_and_resumed_run_ends_with_the_uninterrupted_weights(synthetic_data, augment):
    config = TrainConfig(batch_size=32, lr=1e-2, seed=3, augment=augment)
    uninterrupted = Trainer(synthetic_data, config, CPU)
    uninterrupted.run(3)

    trainer = Trainer(synthetic_data, config, CPU)
    stop, seen = threading.Event(), []
    completed = trainer.run(3, on_batch=stop_at(stop, epoch=2, batch=4, seen=seen), stop=stop)

    assert [r.epoch for r in completed] == [1]
    assert (seen[-1].epoch, seen[-1].batch) == (2, 4), "no batch may start once stop is set"
    assert trainer.epoch_in_progress and trainer.epochs_done == 1

    resumed = trainer.run(2)  # finishes the stopped epoch 2, then epoch 3

    assert [r.epoch for r in resumed] == [2, 3]
    assert not trainer.epoch_in_progress
    assert_same_weights(weights(trainer), weights(uninterrupted))
    assert without_times(trainer.history) == without_times(uninterrupted.history)


def test_stop_set_by_another_thread_takes_effect_before_the_next_batch(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    stop, at_batch_three, go_on = threading.Event(), threading.Event(), threading.Event()
    seen: list[BatchReport] = []

    def on_batch(report: BatchReport) -> None:
        seen.append(report)
        if report.batch == 3:
            at_batch_three.set()
            go_on.wait(timeout=10)

    worker = threading.Thread(target=lambda: trainer.run(5, on_batch=on_batch, stop=stop))
    worker.start()
    assert at_batch_three.wait(timeout=30)
    stop.set()  # from this thread, while the worker is inside batch 3's callback
    go_on.set()
    worker.join(timeout=30)

    assert not worker.is_alive()
    assert [(r.epoch, r.batch) for r in seen] == [(1, 1), (1, 2), (1, 3)]
    assert trainer.epochs_done == 0 and trainer.epoch_in_progress


def test_stop_set_before_run_trains_nothing(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    before = weights(trainer)
    stop = threading.Event()
    stop.set()

    assert trainer.run(3, stop=stop) == []
    assert_same_weights(weights(trainer), before)


def test_reset_gives_the_seeds_initial_weights_again(synthetic_data):
    config = TrainConfig(batch_size=32, lr=1e-2, seed=5)
    trainer = Trainer(synthetic_data, config, CPU)
    initial = weights(trainer)
    trainer.run(2)
    stop = threading.Event()
    trainer.run(1, on_batch=stop_at(stop, epoch=3, batch=2, seen=[]), stop=stop)  # leave an epoch half done

    trainer.reset()

    assert_same_weights(weights(trainer), initial)
    assert_same_weights(initial, build_model("seed", torch.Generator().manual_seed(5)).state_dict())
    assert trainer.history == [] and trainer.epochs_done == 0 and not trainer.epoch_in_progress
    # the shuffle and the optimizer start over too: training again repeats the first run
    fresh = Trainer(synthetic_data, config, CPU)
    trainer.run(2)
    fresh.run(2)
    assert_same_weights(weights(trainer), weights(fresh))


def test_reset_to_another_config(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    trainer.run(1)

    trainer.reset(TrainConfig(model="zoo", seed=9))

    assert trainer.config.model == "zoo" and trainer.epochs_done == 0
    assert_same_weights(weights(trainer), build_model("zoo", torch.Generator().manual_seed(9)).state_dict())
    with pytest.raises(ValueError, match="batch size"):
        trainer.reset(TrainConfig(batch_size=0))


def test_update_changes_hyperparameters_between_runs(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    trainer.run(1)

    trainer.update(TrainConfig(batch_size=100, lr=1e-3))
    batches = []
    trainer.run(1, on_batch=batches.append)

    assert [g["lr"] for g in trainer.optimizer.param_groups] == [1e-3]
    assert [(b.batch, b.batches) for b in batches] == [(1, 3), (2, 3), (3, 3)]
    assert trainer.epochs_done == 2
    with pytest.raises(ValueError, match="needs a reset"):
        trainer.update(TrainConfig(model="zoo"))
    with pytest.raises(ValueError, match="needs a reset"):
        trainer.update(TrainConfig(seed=1))


def with_nan_in_training_image(data, index: int):
    train_images = data.train_images.clone()
    train_images[index, 14, 14] = float("nan")
    return replace(data, train_images=train_images)


def test_a_nan_loss_stops_the_run_before_its_step(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    order = torch.randperm(len(synthetic_data.train_images), generator=torch.Generator().manual_seed(FAST.seed))
    bad_batch = 4  # 1-based: the batch that holds the poisoned image
    poisoned = Trainer(with_nan_in_training_image(synthetic_data, int(order[(bad_batch - 1) * 32])), FAST, CPU)
    stop, seen = threading.Event(), []
    trainer.run(1, on_batch=stop_at(stop, 1, bad_batch - 1, seen), stop=stop)  # the same run, stopped before it

    with pytest.raises(Diverged, match=f"the loss became nan in epoch 1, batch {bad_batch}") as caught:
        poisoned.run(1)

    assert (caught.value.epoch, caught.value.batch) == (1, bad_batch) and math.isnan(caught.value.value)
    assert_same_weights(weights(poisoned), weights(trainer))  # the last finite weights, no step on nan
    assert all(torch.isfinite(value).all() for value in weights(poisoned).values())
    with pytest.raises(Diverged):  # the same batch again: nothing was skipped
        poisoned.run(1)


def test_out_of_memory_keeps_the_weights_and_training_goes_on_from_that_batch(
    synthetic_data, monkeypatch, out_of_memory
):
    uninterrupted = Trainer(synthetic_data, FAST, CPU)
    uninterrupted.run(2)
    trainer = Trainer(synthetic_data, FAST, CPU)
    forward = trainer.model.forward
    calls = itertools.count(1)

    def runs_out_at_the_third_batch(images):
        if next(calls) == 3:
            raise out_of_memory
        return forward(images)

    monkeypatch.setattr(trainer.model, "forward", runs_out_at_the_third_batch)
    before = Trainer(synthetic_data, FAST, CPU)
    stop, seen = threading.Event(), []
    before.run(1, on_batch=stop_at(stop, 1, 2, seen), stop=stop)

    with pytest.raises(TrainingOutOfMemory, match="out of memory training the seed model with batch size 32 on cpu"):
        trainer.run(2)

    assert_same_weights(weights(trainer), weights(before))
    monkeypatch.setattr(trainer.model, "forward", forward)
    trainer.run(2)
    assert_same_weights(weights(trainer), weights(uninterrupted))


def test_other_errors_are_not_taken_for_out_of_memory(synthetic_data, monkeypatch):
    trainer = Trainer(synthetic_data, FAST, CPU)

    def broken(images):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(trainer.model, "forward", broken)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        trainer.run(1)


def test_the_run_clock_counts_batches_and_evaluations(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(training.time, "perf_counter", lambda: now[0])
    clock = RunClock(epochs=2, evaluation_s=5.0, started=now[0])

    def one_second_batch(epoch: int, batch: int) -> float:  # 10 batches an epoch
        now[0] += 1
        return clock.batch_done(BatchReport(epoch, batch, 10, 2.3))

    left = [one_second_batch(1, batch) for batch in range(1, 11)]
    assert left[4] == pytest.approx(5 + 10 + 2 * 5)  # the batches of both epochs, then both evaluations
    now[0] += 4  # epoch 1's evaluation took 4 s, not the 5 estimated
    clock.epoch_done(4.0)
    assert one_second_batch(2, 1) == pytest.approx(9 + 4)


def test_the_evaluation_estimate_is_measured_once_an_epoch_has_ended(synthetic_data):
    trainer = Trainer(synthetic_data, FAST, CPU)
    assert trainer.estimated_evaluation_s() > 0 and trainer.evaluation_s is None
    trainer.run(1)
    assert trainer.estimated_evaluation_s() == trainer.evaluation_s > 0


def test_label_smoothing_is_torchs_on_the_probabilities():
    log_probs = (5 * torch.randn(16, 10, generator=torch.Generator().manual_seed(0))).log_softmax(dim=1)
    labels = log_probs.argmax(dim=1)  # confident and right: smoothing costs a lot
    smoothed = crossentropy(log_probs, labels, label_smoothing=0.1)
    assert smoothed.item() == pytest.approx(F.cross_entropy(log_probs, labels, label_smoothing=0.1).item(), rel=1e-6)
    assert smoothed.item() > 2 * crossentropy(log_probs, labels).item()


def test_one_cycle_learning_rate_rises_to_its_peak_then_falls_away():
    rates = [one_cycle_lr(3e-3, step / 100) for step in range(101)]
    assert rates[0] == pytest.approx(3e-3 / 25)
    assert max(rates) == pytest.approx(3e-3) and rates.index(max(rates)) == 30
    assert rates[-1] == pytest.approx(3e-3 / 25e4)
    assert all(a < b for a, b in itertools.pairwise(rates[:31])) and all(
        a > b for a, b in itertools.pairwise(rates[30:])
    )


ONE_CYCLE = [name for name, spec in PRESETS.items() if spec.one_cycle]


@pytest.mark.parametrize("model", ONE_CYCLE)
def test_a_one_cycle_preset_sets_every_batchs_learning_rate_and_resumes_exactly(synthetic_data, model):
    config = TrainConfig.for_model(model, epochs=2, batch_size=32, seed=3)
    rates = []
    uninterrupted = Trainer(synthetic_data, config, CPU)
    uninterrupted.run(on_batch=lambda report: rates.append(uninterrupted.optimizer.param_groups[0]["lr"]))
    # each epoch's batches start 32 digits apart; the second epoch at 300 of the 600 digits of the run
    progress = [(epoch * 300 + batch * 32) / 600 for epoch in range(2) for batch in range(BATCHES_PER_EPOCH)]
    assert rates == pytest.approx([one_cycle_lr(config.lr, share) for share in progress])

    trainer = Trainer(synthetic_data, config, CPU)
    stop = threading.Event()
    trainer.run(on_batch=stop_at(stop, epoch=1, batch=7, seen=[]), stop=stop)
    trainer.run(2)  # finishes epoch 1, then epoch 2
    assert_same_weights(weights(trainer), weights(uninterrupted))
