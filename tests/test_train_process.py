"""Runs in the server's training process (`cluster.ProcessRunner`) on tiny synthetic data: the same
runs as in the job's thread, trained in another process, and what happens when that process is
missing or killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mnistdemo.cluster import ClusterState, DriverProcess, ProcessRunner, TrainingProcess
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import JobState, TrainingJob
from mnistdemo.training import Trainer

REPO = Path(__file__).resolve().parents[1]
CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.01, seed=3)
LONG = replace(CONFIG, epochs=100, batch_size=1)  # long enough to stop or break
WAIT_S = 120.0  # the process imports torch first: seconds on a busy machine


def wait_for(done, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def wait_until_done(job: TrainingJob):
    wait_for(lambda: not job.snapshot().active and not job.is_running())
    return job.snapshot()


def connected(data) -> TrainingProcess:
    process = TrainingProcess(data)
    wait_for(lambda: process.status().state != ClusterState.CONNECTING)
    assert process.status().state == ClusterState.CONNECTED, process.status()
    return process


@pytest.fixture(scope="module")
def process(synthetic_data):
    started = connected(synthetic_data)
    yield started
    started.close()


def refuse_to_train_here(monkeypatch) -> None:
    """From now on, a run trained in this process fails."""

    def refuse(*args, **kwargs):
        raise AssertionError("trained in the web server's process")

    monkeypatch.setattr(Trainer, "run", refuse)


def test_a_run_in_the_training_process_is_the_run_a_thread_trains(process, synthetic_data, single_thread, monkeypatch):
    here = TrainingJob(synthetic_data, CONFIG)
    here.start(CONFIG)
    expected = wait_until_done(here)
    refuse_to_train_here(monkeypatch)

    there = TrainingJob(synthetic_data, CONFIG, runner=ProcessRunner(process))
    there.start(CONFIG)
    snapshot = wait_until_done(there)
    assert snapshot.state == JobState.FINISHED, snapshot.message
    assert [(r.epoch, r.loss, r.train_acc, r.test_acc) for r in snapshot.history] == [
        (r.epoch, r.loss, r.train_acc, r.test_acc) for r in expected.history
    ]
    np.testing.assert_array_equal(snapshot.batch_losses, expected.batch_losses)
    assert [weights.epoch for weights in snapshot.epoch_weights] == [0, 1, 2, 3]  # replay has every epoch
    images = synthetic_data.test_images.numpy()
    np.testing.assert_allclose(there.predict_proba(images), here.predict_proba(images), atol=1e-6)
    assert snapshot.placement.cluster == ""  # the page says nothing of a cluster


def test_stop_in_the_training_process_keeps_the_weights_and_train_continues(
    process, synthetic_data, single_thread, monkeypatch
):
    refuse_to_train_here(monkeypatch)
    job = TrainingJob(synthetic_data, LONG, runner=ProcessRunner(process))
    job.start(LONG)
    wait_for(lambda: job.snapshot().epochs_done >= 1)
    job.stop()
    stopped = job.snapshot()
    assert stopped.state == JobState.STOPPED and stopped.message == "stopped"
    assert 1 <= stopped.epochs_done < 100
    job.start(CONFIG)
    finished = wait_until_done(job)
    assert finished.state == JobState.FINISHED
    assert finished.epochs_done >= stopped.epochs_done + 2  # the stopped epoch, finished, counts as one


def test_a_killed_training_process_fails_its_run_keeps_the_weights_and_the_next_run_trains(
    synthetic_data, single_thread, capsys
):
    process = connected(synthetic_data)  # its own: this test kills it
    try:
        # the server's log says when its training process is ready (the idle-server test waits for it)
        assert f"mnistdemo: training process ready (pid {process._driver.pid}: " in capsys.readouterr().err
        job = TrainingJob(synthetic_data, LONG, runner=ProcessRunner(process))
        job.start(LONG)
        wait_for(lambda: job.snapshot().epochs_done >= 1)
        os.kill(process._driver.pid, signal.SIGKILL)
        snapshot = wait_until_done(job)
        assert snapshot.state == JobState.FAILED
        assert snapshot.message == (
            "training stopped: this server's training process lost this run (its training process ended "
            "(exit code -9)). The weights trained until then are kept"
        )
        assert process.status().state == ClusterState.LOST
        kept = snapshot.epochs_done
        assert kept >= 1 and [weights.epoch for weights in snapshot.epoch_weights][-1] == kept

        job.start(CONFIG)  # the process is not back yet: this run trains in the job's thread
        finished = wait_until_done(job)
        assert finished.state == JobState.FINISHED and finished.epochs_done >= kept + 2
    finally:
        process.close()


def test_without_its_training_process_a_server_trains_in_the_jobs_thread(synthetic_data, single_thread):
    missing = DriverProcess("mnistdemo.no_such_module", "training process", "here", "", synthetic_data, WAIT_S)
    wait_for(lambda: missing.status().state != ClusterState.CONNECTING)
    assert missing.status().state == ClusterState.UNREACHABLE
    assert "No module named mnistdemo.no_such_module" in missing.status().detail
    job = TrainingJob(synthetic_data, CONFIG, runner=ProcessRunner(missing))
    job.start(CONFIG)
    assert wait_until_done(job).state == JobState.FINISHED


def test_a_training_process_whose_server_ends_before_sending_the_data_leaves_quietly():
    commands_read, commands_write = os.pipe()
    events_read, events_write = os.pipe()
    os.close(commands_write)  # the server is gone before it sent anything
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mnistdemo.train_process", str(commands_read), str(events_write)],
            pass_fds=(commands_read, events_write),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )
    finally:
        for end in (commands_read, events_read, events_write):
            os.close(end)
    assert (done.returncode, done.stderr) == (0, "")
