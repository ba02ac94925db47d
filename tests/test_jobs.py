"""TrainingJob on tiny synthetic data: a run in a background thread, observed through snapshots."""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from mnistdemo import jobs
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import JobState, LocalRunner, TrainingJob
from mnistdemo.training import Trainer

CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.01, seed=3)
WAIT_S = 60.0


def wait_until_done(job: TrainingJob):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        snapshot = job.snapshot()
        if not snapshot.active and not job.is_running():
            return snapshot
        time.sleep(0.01)
    raise AssertionError("the run did not end")


def test_a_run_finishes_with_its_history_and_the_same_weights_as_the_trainer(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    assert job.snapshot().state == JobState.IDLE
    job.start(CONFIG)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.FINISHED
    assert [r.epoch for r in snapshot.history] == [1, 2, 3]
    assert snapshot.run_fraction == 1.0
    assert len(snapshot.batch_losses) == 3 * math.ceil(len(synthetic_data.train_images) / 16)

    trainer = Trainer(synthetic_data, CONFIG, torch.device("cpu"))
    trainer.run(3)
    images = synthetic_data.test_images.numpy()
    expected = torch.exp(trainer.model.eval()(synthetic_data.test_images)).detach().numpy()
    np.testing.assert_allclose(job.predict_proba(images), expected, atol=1e-6)


def test_stop_keeps_the_weights_and_train_continues(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(replace(CONFIG, epochs=100))
    while not len(job.snapshot().batch_losses):
        time.sleep(0.005)
    job.stop()
    stopped = job.snapshot()
    assert stopped.state == JobState.STOPPED and stopped.message == "stopped"
    assert stopped.epochs_done < 100
    job.start(CONFIG)
    finished = wait_until_done(job)
    assert finished.state == JobState.FINISHED
    assert finished.epochs_done >= stopped.epochs_done + 2  # the stopped epoch, finished, counts as one


def test_reset_and_a_new_preset_start_from_new_weights(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(CONFIG)
    wait_until_done(job)
    version = job.snapshot().weights_version
    job.reset(CONFIG)
    fresh = job.snapshot()
    assert fresh.state == JobState.IDLE and fresh.history == () and len(fresh.batch_losses) == 0
    assert fresh.weights_version > version
    job.start(replace(CONFIG, model="zoo", epochs=1))
    assert wait_until_done(job).config.model == "zoo"


def test_start_while_running_does_not_start_a_second_run(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(replace(CONFIG, epochs=50))
    thread = job._thread
    job.start(CONFIG)
    assert job._thread is thread
    job.stop()


def test_a_run_waits_for_a_slot_visibly_and_stop_while_waiting_does_not_hang(synthetic_data, single_thread):
    slots = threading.Semaphore(1)
    slots.acquire()  # another session's run holds the only slot
    job = TrainingJob(synthetic_data, CONFIG, runner=LocalRunner(slots))
    job.start(CONFIG)
    time.sleep(0.3)
    assert job.snapshot().state == JobState.WAITING
    job.stop()
    assert job.snapshot().state == JobState.STOPPED
    slots.release()
    job.start(CONFIG)
    assert wait_until_done(job).state == JobState.FINISHED


def test_a_run_nobody_watches_stops_by_itself_though_snapshots_are_read(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG, abandon_after_s=0.2)
    job.start(replace(CONFIG, epochs=100))
    while job.is_running():  # reading snapshots is not a heartbeat
        job.snapshot()
        time.sleep(0.01)
    snapshot = job.snapshot()
    assert snapshot.state == JobState.STOPPED
    assert "nobody was watching" in snapshot.message


def test_a_run_with_heartbeats_keeps_going(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG, abandon_after_s=0.2)
    job.start(replace(CONFIG, epochs=100))
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        job.heartbeat()
        time.sleep(0.05)
    assert job.snapshot().state == JobState.RUNNING
    job.stop()


def test_snapshots_hand_out_batch_losses_that_never_change(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(CONFIG)
    while len(job.snapshot().batch_losses) < 3:
        time.sleep(0.001)
    early = job.snapshot().batch_losses
    kept = early.copy()
    final = wait_until_done(job).batch_losses
    np.testing.assert_array_equal(early, kept)  # the log grew (and moved) after this was handed out
    np.testing.assert_array_equal(final[: len(early)], early)
    assert len(final) > len(early) and not early.flags.writeable and not final.flags.writeable
    with pytest.raises(ValueError):
        final[0, 1] = 0.0


def test_loss_log_keeps_rows_in_order_across_growth():
    log = jobs.LossLog()
    views = []
    for step in range(3000):
        log.append(step / 100, float(step))
        views.append(log.view())
    np.testing.assert_array_equal(views[-1][:, 1], np.arange(3000))
    assert all(len(view) == step + 1 and view[-1, 1] == step for step, view in enumerate(views))


def test_a_failing_run_reports_the_error(synthetic_data, single_thread, monkeypatch):
    job = TrainingJob(synthetic_data, CONFIG)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(job._trainer, "run", broken)
    job.start(CONFIG)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.FAILED
    assert "boom" in snapshot.message


def test_favour_training_threads_shortens_the_gil_switch_interval():
    before = sys.getswitchinterval()
    try:
        jobs.favour_training_threads()
        assert sys.getswitchinterval() == pytest.approx(jobs.GIL_SWITCH_INTERVAL_S)
    finally:
        sys.setswitchinterval(before)


def wait_for_state(job: TrainingJob, state: JobState) -> None:
    deadline = time.monotonic() + WAIT_S
    while job.snapshot().state != state:
        assert time.monotonic() < deadline, f"the job never got {state}; it is {job.snapshot().state}"
        time.sleep(0.01)


def test_a_run_stops_soon_after_its_page_is_closed(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)  # the 90 s fallback is far away
    job.start(replace(CONFIG, epochs=100))
    wait_for_state(job, JobState.RUNNING)
    job.page_closed(grace_s=0.2)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.STOPPED and snapshot.message == "stopped" + jobs.ABANDONED
    assert snapshot.epochs_done < 100


def test_a_page_that_comes_back_within_the_grace_keeps_its_run(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(replace(CONFIG, epochs=100))
    job.page_closed(grace_s=0.3)
    job.page_opened()  # it reconnected: its script ran again
    time.sleep(0.6)
    assert job.snapshot().state == JobState.RUNNING
    job.stop()


def test_a_poll_in_flight_when_the_page_closed_does_not_keep_its_run(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(replace(CONFIG, epochs=100))
    wait_for_state(job, JobState.RUNNING)
    job.page_closed(grace_s=0.2)
    job.heartbeat()  # the closing page's last poll got there after the session ended
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.STOPPED and snapshot.message == "stopped" + jobs.ABANDONED


def test_a_run_waiting_for_a_slot_notices_its_page_is_gone(synthetic_data, single_thread):
    slots = threading.BoundedSemaphore(1)
    slots.acquire()  # another session's run holds the only slot
    job = TrainingJob(synthetic_data, CONFIG, runner=LocalRunner(slots))
    job.start(CONFIG)
    assert job.snapshot().state == JobState.WAITING
    job.page_closed(grace_s=0.1)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.STOPPED and snapshot.message == "stopped before it started" + jobs.ABANDONED
    slots.release()
    assert slots.acquire(blocking=False), "the waiting run must not have kept a slot"


@pytest.mark.parametrize(
    "pixel, quantity",
    [(float("nan"), "loss"), (float("inf"), "gradient")],  # inf saturates a sigmoid: a finite loss, a nan slope
)
def test_a_loss_or_gradient_that_is_not_a_number_fails_the_run_and_says_the_rate_is_too_high(
    synthetic_data, single_thread, pixel, quantity
):
    images = synthetic_data.train_images.clone()
    images[:, 14, 14] = pixel  # every digit: the very first batch
    job = TrainingJob(replace(synthetic_data, train_images=images), CONFIG)
    job.start(CONFIG)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.FAILED
    assert snapshot.message.startswith(f"training stopped: the {quantity} became nan in epoch 1, batch 1")
    assert snapshot.trouble.too_high and snapshot.trouble.suggested_lr == TrainConfig().lr  # the usual rate
    probabilities = job.predict_proba(synthetic_data.test_images[:5].numpy())
    assert np.isfinite(probabilities).all(), "the page keeps the last finite weights"


def test_out_of_memory_fails_the_run_with_the_reason_and_keeps_the_weights(synthetic_data, single_thread, monkeypatch):
    job = TrainingJob(synthetic_data, CONFIG)
    model = job._trainer.model
    weights = {name: value.clone() for name, value in model.state_dict().items()}

    def out_of_memory(images):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(model, "forward", out_of_memory)
    job.start(CONFIG)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.FAILED
    assert snapshot.message == (
        "training stopped: out of memory training the seed model with batch size 16 on cpu: choose a smaller batch "
        "size. The weights from before that batch are kept"
    )
    assert all(torch.equal(model.state_dict()[name], value) for name, value in weights.items())
    monkeypatch.undo()
    job.start(replace(CONFIG, batch_size=8))  # a smaller batch size: training goes on
    assert wait_until_done(job).state == JobState.FINISHED


def test_an_epoch_no_better_than_chance_is_reported_while_the_run_goes_on(synthetic_data, single_thread):
    crawling = TrainConfig(epochs=2, batch_size=256, lr=1e-5)  # two tiny steps an epoch
    job = TrainingJob(synthetic_data, crawling)
    job.start(crawling)
    snapshot = wait_until_done(job)
    assert snapshot.state == JobState.FINISHED and snapshot.epochs_done == 2
    assert snapshot.trouble is not None and not snapshot.trouble.too_high
    job.reset(CONFIG)
    assert job.snapshot().trouble is None


def test_a_running_job_says_how_long_the_rest_will_take(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(replace(CONFIG, epochs=50))
    while job.snapshot().eta_s is None:
        time.sleep(0.01)
    snapshot = job.snapshot()
    job.stop()
    assert snapshot.eta_s > 0 and snapshot.run_elapsed_s > 0
