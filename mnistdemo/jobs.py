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
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import numpy as np
import torch

from .checkpoint import Checkpoint
from .config import TrainConfig
from .data import MnistData
from .inference import predict_proba
from .runs import RunRecord, loss_curve
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
    LOADED = "loaded"  # weights from a checkpoint (`message` names it); Train continues from them


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
        self._snapshot = JobSnapshot(JobState.IDLE, self._trainer.config)
        self._losses = LossLog()
        self._stop_reason = ""
        self._published = copy.deepcopy(self._trainer.model).eval()
        self._published_at = 0.0
        self._runs: list[RunRecord] = []  # every run that ended, kept across resets and loads

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
            self._published = copy.deepcopy(self._trainer.model).eval()
            self._snapshot = JobSnapshot(
                JobState.IDLE, self._trainer.config, weights_version=self._snapshot.weights_version + 1
            )

    def load(self, checkpoint: Checkpoint, source: str) -> None:
        """Stop any run and take a saved model: its weights, settings, history and training state.

        A checkpoint that does not fit raises ValueError and changes nothing. `source` says where it
        came from ("talk-cnn", "upload cnn.pt")."""
        self.stop()
        self._trainer.restore(checkpoint.model.state_dict(), checkpoint.config, checkpoint.history, checkpoint.training)
        with self._lock:
            self._losses = LossLog()
            self._published = copy.deepcopy(self._trainer.model).eval()
            self._snapshot = JobSnapshot(
                JobState.LOADED,
                self._trainer.config,
                history=tuple(self._trainer.history),
                weights_version=self._snapshot.weights_version + 1,
                message=source,
            )

    def checkpoint(self) -> Checkpoint:
        """The current model, settings, history and training state, copied (only while no run is
        active: a run changes them between any two lines here)."""
        if self.is_running():
            raise RuntimeError("a run is under way: save after it ends")
        trainer = self._trainer
        return Checkpoint(
            copy.deepcopy(trainer.model).cpu().eval(),
            trainer.config,
            list(trainer.history),
            training=copy.deepcopy(trainer.training_state()),
        )

    def runs(self) -> tuple[RunRecord, ...]:
        """Every run that ended (finished or stopped after training at least one batch), oldest first."""
        with self._lock:
            return tuple(self._runs)

    def add_runs(self, records: Iterable[RunRecord]) -> None:
        """Join runs made elsewhere (a file of runs) to the list, numbered after the others."""
        with self._lock:
            for record in records:
                self._runs.append(replace(record, number=len(self._runs) + 1))

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def model(self) -> torch.nn.Module:
        """The latest published weights, never trained in place: copy them before changing them."""
        with self._lock:
            return self._published

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Probabilities from the latest published weights; never waits for a batch."""
        with self._lock:
            model = self._published
        return predict_proba(model, images)

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
            first_epoch, first_batch = self._trainer.epochs_done, len(self._losses.view())
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
        outcome = JobState.FINISHED if len(done) == epochs else JobState.STOPPED
        self._record_run(outcome, clock, first_epoch, first_batch)
        self._finish(outcome, "" if outcome == JobState.FINISHED else self._stop_reason)

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
        with self._lock:
            self._snapshot = replace(
                self._snapshot, history=tuple(self._trainer.history), run_epochs_done=self._snapshot.run_epochs_done + 1
            )
        self._publish()

    def _publish(self) -> None:
        model = copy.deepcopy(self._trainer.model).eval()
        with self._lock:
            self._published = model
            self._published_at = time.perf_counter()
            self._snapshot = replace(self._snapshot, weights_version=self._snapshot.weights_version + 1)

    def _record_run(self, outcome: JobState, clock: _RunClock, first_epoch: int, first_batch: int) -> None:
        """Keep the run that just ended for comparison, before the page can see that it ended."""
        if not clock.batches_done:
            return
        history = self._trainer.history
        with self._lock:
            self._runs.append(
                RunRecord(
                    number=len(self._runs) + 1,
                    config=self._trainer.config,
                    outcome=outcome.value,
                    first_epoch=first_epoch,
                    history=tuple(history[first_epoch:]),
                    loss_curve=loss_curve(self._losses.view()[first_batch:]),
                    duration_s=round(time.perf_counter() - clock.started, 3),
                    ended_at=datetime.now().astimezone().isoformat(timespec="seconds"),
                )
            )

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
