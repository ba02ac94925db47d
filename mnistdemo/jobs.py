"""Jobs: a Trainer run in a background thread, observed through immutable snapshots.

Made for a web page that re-runs its script on every click: the page starts, stops and resets a
job, polls `snapshot()` and says `heartbeat()`; the thread never calls back into the page. A
server-wide semaphore limits how many runs train at once, and a run whose page has stopped saying
it is there (a closed tab) stops by itself after `abandon_after_s`.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import torch
from torch import nn

from .config import TrainConfig
from .data import MnistData
from .inference import predict_proba
from .replay import EpochWeights, keep, weights_of
from .training import BatchReport, EpochResult, Trainer

PUBLISH_EVERY_S = 0.5  # how often the weights the page sees are refreshed during a run
ABANDON_AFTER_S = 90.0  # hidden browser tabs still poll at least once a minute
SLOT_POLL_S = 0.1  # how soon a run waiting for a training slot notices Stop
GIL_SWITCH_INTERVAL_S = 0.001  # Python's default is 0.005


def favour_training_threads() -> None:
    """Hand the GIL back to training threads sooner (process-wide; README, "Speed of the app").

    A training thread releases the GIL inside every torch op and needs it again right after; the
    default switch interval keeps it waiting while another thread builds a page. Entry points call this.
    """
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


class LossLog:
    """(fractional epoch, loss) of every batch, appended by one thread; `view()` hands out read-only
    views that never change, so a poll copies nothing however long the run."""

    def __init__(self, capacity: int = 1024) -> None:
        self._rows = np.empty((capacity, 2))
        self._count = 0

    def append(self, epoch: float, loss: float) -> None:
        if self._count == len(self._rows):  # grow into a new array: views of the old one stay valid
            grown = np.empty((max(1024, 2 * len(self._rows)), 2))
            grown[: self._count] = self._rows[: self._count]
            self._rows = grown
        self._rows[self._count] = (epoch, loss)
        self._count += 1

    def view(self) -> np.ndarray:
        rows = self._rows[: self._count]
        rows.flags.writeable = False
        return rows


class JobState(StrEnum):
    IDLE = "idle"  # never run since the last reset
    WAITING = "waiting"  # waiting for a free training slot
    RUNNING = "running"
    STOPPED = "stopped"  # stopped by the user, or abandoned; Train continues from here
    FINISHED = "finished"
    FAILED = "failed"


@dataclass(frozen=True)
class JobSnapshot:
    state: JobState
    config: TrainConfig  # what the current weights were created and last trained with
    history: tuple[EpochResult, ...] = ()
    # (fractional epoch, loss) of every batch, read-only
    batch_losses: np.ndarray = field(default_factory=lambda: LossLog(capacity=0).view(), compare=False)
    epoch: int = 0  # epoch being trained (1-based), 0 when none
    batch: int = 0
    batches: int = 0
    run_epochs: int = 0  # epochs this run was asked for
    run_epochs_done: int = 0
    eta_s: float | None = None
    weights_version: int = 0  # changes whenever the weights the page sees change
    message: str = ""  # why it stopped or failed
    # the weights of `weights_version`, in evaluation mode: a copy that training never changes; read only
    model: nn.Module | None = field(default=None, compare=False)
    epoch_weights: tuple[EpochWeights, ...] = field(default=(), compare=False)  # for replay, oldest first

    @property
    def active(self) -> bool:
        return self.state in (JobState.WAITING, JobState.RUNNING)

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def run_fraction(self) -> float:
        """Share of this run done, 0..1, counting the batches of the epoch under way."""
        if not self.run_epochs:
            return 0.0
        partial = self.batch / self.batches if self.batches else 0.0
        return min(1.0, (self.run_epochs_done + partial) / self.run_epochs)


@dataclass
class _RunClock:
    started: float = field(default_factory=time.perf_counter)
    batches_done: int = 0


class TrainingJob:
    """One session's model, trained off the calling thread."""

    def __init__(
        self,
        data: MnistData,
        config: TrainConfig = TrainConfig(),
        slots: threading.Semaphore | None = None,
        device: torch.device | None = None,
        abandon_after_s: float = ABANDON_AFTER_S,
    ):
        self._trainer = Trainer(data, config, device)
        self._slots = slots or threading.Semaphore(1)
        self._abandon_after_s = abandon_after_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_seen = time.monotonic()
        self._losses = LossLog()
        self._stop_reason = ""
        self._published_at = 0.0
        self._snapshot = self._untrained(weights_version=0)

    # --- what the page calls -------------------------------------------------------------------

    def snapshot(self) -> JobSnapshot:
        """The latest state (immutable: the job replaces it, never changes it)."""
        with self._lock:
            return self._snapshot

    def heartbeat(self) -> None:
        """The page is still open: a run nobody has said this of for `abandon_after_s` stops."""
        self._last_seen = time.monotonic()

    def start(self, config: TrainConfig) -> None:
        """Train `config.epochs` more epochs in the background (ignored while a run is active).

        Learning rate and batch size apply from this run on; a different model preset or random
        seed starts from new weights.
        """
        if self.is_running():
            return
        trainer = self._trainer
        if trainer.config.needs_new_weights(config):
            self.reset(config)
        else:
            trainer.update(config)
        self._stop.clear()
        self._stop_reason = "stopped"
        with self._lock:
            self._last_seen = time.monotonic()
            self._snapshot = replace(
                self._snapshot,
                state=JobState.WAITING,
                config=trainer.config,
                run_epochs=config.epochs,
                run_epochs_done=0,
                eta_s=None,
                message="",
            )
        self._thread = threading.Thread(target=self._run, args=(config.epochs,), daemon=True, name="mnistdemo-training")
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop between two batches; the weights trained so far are kept."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join()

    def reset(self, config: TrainConfig) -> None:
        """Stop any run and start over from new random weights."""
        self.stop()
        self._trainer.reset(config)
        with self._lock:
            self._losses = LossLog()
            self._snapshot = self._untrained(self._snapshot.weights_version + 1)

    def _untrained(self, weights_version: int) -> JobSnapshot:
        model = copy.deepcopy(self._trainer.model).eval()
        return JobSnapshot(
            JobState.IDLE,
            self._trainer.config,
            weights_version=weights_version,
            model=model,
            epoch_weights=(weights_of(model, 0, weights_version),),
        )

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Probabilities from the latest published weights; never waits for a batch."""
        return predict_proba(self.snapshot().model, images)

    # --- the training thread -------------------------------------------------------------------

    def _wait_for_slot(self) -> bool:
        """Take a training slot; False when stopped first (a plain blocking acquire would not see
        Stop, and a page waiting on `stop()` would freeze until another session's run ended)."""
        while not self._slots.acquire(timeout=SLOT_POLL_S):
            if self._stop.is_set():
                return False
        return True

    def _run(self, epochs: int) -> None:
        if not self._wait_for_slot():
            self._finish(JobState.STOPPED, "stopped before it started")
            return
        try:
            if self._stop.is_set():
                self._finish(JobState.STOPPED, "stopped before it started")
                return
            with self._lock:
                self._snapshot = replace(self._snapshot, state=JobState.RUNNING)
            clock = _RunClock()
            try:
                done = self._trainer.run(
                    epochs,
                    on_batch=lambda report: self._on_batch(report, clock, epochs),
                    on_epoch=self._on_epoch,
                    stop=self._stop,
                )
            except Exception as error:  # the page must show it; the thread must not die silently
                self._finish(JobState.FAILED, f"training failed: {type(error).__name__}: {error}")
                return
        finally:
            self._slots.release()
        if len(done) == epochs:
            self._finish(JobState.FINISHED, "")
        else:
            self._finish(JobState.STOPPED, self._stop_reason)

    def _on_batch(self, report: BatchReport, clock: _RunClock, epochs: int) -> None:
        clock.batches_done += 1
        now = time.perf_counter()
        with self._lock:
            snap = self._snapshot
            remaining = (epochs - snap.run_epochs_done) * report.batches - report.batch
            self._losses.append(report.epoch - 1 + report.batch / report.batches, report.loss)
            self._snapshot = replace(
                snap,
                batch_losses=self._losses.view(),
                epoch=report.epoch,
                batch=report.batch,
                batches=report.batches,
                eta_s=remaining * (now - clock.started) / clock.batches_done,
            )
            abandoned = time.monotonic() - self._last_seen > self._abandon_after_s
        if now - self._published_at >= PUBLISH_EVERY_S:
            self._publish()
        if abandoned:
            self._stop_reason = "stopped: nobody was watching (the page was closed)"
            self._stop.set()

    def _on_epoch(self, result: EpochResult) -> None:
        self._publish()
        with self._lock:
            snap = self._snapshot
            kept = keep(snap.epoch_weights, weights_of(snap.model, result.epoch, snap.weights_version))
            self._snapshot = replace(
                snap,
                history=tuple(self._trainer.history),
                run_epochs_done=snap.run_epochs_done + 1,
                epoch_weights=kept,
            )

    def _publish(self) -> None:
        model = copy.deepcopy(self._trainer.model).eval()
        with self._lock:
            self._published_at = time.perf_counter()
            self._snapshot = replace(self._snapshot, weights_version=self._snapshot.weights_version + 1, model=model)

    def _finish(self, state: JobState, message: str) -> None:
        self._publish()
        with self._lock:
            self._snapshot = replace(
                self._snapshot,
                state=state,
                message=message,
                eta_s=None,
                history=tuple(self._trainer.history),
            )
