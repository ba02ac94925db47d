"""Jobs: a Trainer run in a background thread, observed through immutable snapshots.

Made for a web page that re-runs its script on every click: the page starts, stops and resets a
job, polls `snapshot()` and says `heartbeat()`; the thread never calls back into the page. A run,
or a run waiting for room, stops by itself when its page is gone: soon after `page_closed()` (the
web server saw the page's session end) unless the page says `page_opened()` again, and in any case
once nobody has said `heartbeat()` for `abandon_after_s`.

Where a run trains is the job's runner: `LocalRunner` trains in the job's thread, a server-wide
semaphore limiting how many train at once; `cluster.ProcessRunner` takes the same slots but trains
in the server's training process, and `cluster.RayRunner` sends the run to a Ray cluster, both
passing on its news in that same thread. The job and its snapshots are the same either way.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np
import torch
from torch import nn

from .checkpoint import Checkpoint
from .config import TrainConfig
from .data import MnistData
from .divergence import Trouble, diagnose
from .inference import predict_proba
from .replay import EpochWeights, keep, weights_of
from .runs import RunRecord, loss_curve
from .training import BatchReport, Diverged, EpochResult, RunClock, Trainer, TrainingOutOfMemory

PUBLISH_EVERY_S = 0.5  # how often the weights the page sees are refreshed during a run
ABANDON_AFTER_S = 90.0  # hidden browser tabs still poll at least once a minute
CLOSED_PAGE_GRACE_S = 5.0  # after its session ended, a page that reconnects (a network blip) polls again sooner
ABANDONED = ": nobody was watching (the page was closed)"  # said after "stopped"
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
    WAITING = "waiting"  # waiting for a free training slot, or for room on the cluster
    RUNNING = "running"
    STOPPED = "stopped"  # stopped by the user, or abandoned; Train continues from here
    FINISHED = "finished"
    FAILED = "failed"
    LOADED = "loaded"  # weights from a checkpoint (`message` names it); Train continues from them


@dataclass(frozen=True)
class Placement:
    """Where a run trains, or waits to."""

    cluster: str = ""  # the Ray cluster's address; "" for this server's own threads
    node: str = ""  # where on the cluster it trains, once it does ("node 3f9a1c (10.0.0.5), CPU")
    queue_place: int = 0  # while it waits for room on the cluster: its place among the runs waiting (0: unknown)
    queue_length: int = 0


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
    run_elapsed_s: float = 0.0  # since this run took its training slot
    eta_s: float | None = None  # how long the rest of this run will take, from its batches so far
    weights_version: int = 0  # changes whenever the weights the page sees change
    message: str = ""  # why it stopped or failed
    trouble: Trouble | None = None  # why the model is not learning, when it is not
    placement: Placement = Placement()  # where this run trains, or waits to
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


class RunLost(Exception):
    """What a run trained on went away mid-run (a cluster's node, or the cluster); the trainer holds
    the weights that came back until then."""


@dataclass(frozen=True)
class RunHooks:
    """What a runner tells the job as a run goes, from the job's own thread."""

    waiting: Callable[[Placement], None]  # still waiting for room (also said now and then without news)
    started: Callable[[Placement], None]
    batch: Callable[[BatchReport], None]
    epoch: Callable[[EpochResult], None]


class Runner(Protocol):
    """Where a job's runs train: `LocalRunner`, or `cluster.RayRunner`."""

    def train(self, trainer: Trainer, epochs: int, hooks: RunHooks, stop: threading.Event) -> list[EpochResult] | None:
        """Wait for room, then train `epochs` more epochs of `trainer`; `trainer` holds what came of it,
        also when this raises (RunLost, or the training's own error). None when `stop` came first."""
        ...


class LocalRunner:
    """Trains in the job's own thread, at most as many runs at once as `slots` allows."""

    def __init__(self, slots: threading.Semaphore | None = None):
        self.slots = slots or threading.Semaphore(1)

    def train(self, trainer: Trainer, epochs: int, hooks: RunHooks, stop: threading.Event) -> list[EpochResult] | None:
        # Not a plain blocking acquire: it would not see Stop, and a page waiting on `stop()` would
        # freeze until another session's run ended.
        while not self.slots.acquire(timeout=SLOT_POLL_S):
            hooks.waiting(Placement())
            if stop.is_set():
                return None
        try:
            if stop.is_set():
                return None
            hooks.started(Placement())
            return self.train_now(trainer, epochs, hooks, stop)
        finally:
            self.slots.release()

    def train_now(
        self, trainer: Trainer, epochs: int, hooks: RunHooks, stop: threading.Event
    ) -> list[EpochResult] | None:
        """Train, the slot taken: in this thread."""
        return trainer.run(epochs, on_batch=hooks.batch, on_epoch=hooks.epoch, stop=stop)


class TrainingJob:
    """One session's model, trained off the calling thread, where its runner says."""

    def __init__(
        self,
        data: MnistData,
        config: TrainConfig = TrainConfig(),
        runner: Runner | None = None,
        device: torch.device | None = None,
        abandon_after_s: float = ABANDON_AFTER_S,
    ):
        self._trainer = Trainer(data, config, device)
        self._runner = runner or LocalRunner()
        self._abandon_after_s = abandon_after_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._abandon_at = time.monotonic() + abandon_after_s
        self._page_closed = False  # a poll still in flight when the page closed must not keep the run
        self._losses = LossLog()
        self._stop_why = ""  # said after "stopped": empty when the user pressed Stop
        self._published_at = 0.0
        self._snapshot = self._at_rest(JobState.IDLE, weights_version=0)
        self._clock: RunClock | None = None  # the run's, from when it started training
        self._runs: list[RunRecord] = []  # every run that ended, kept across resets and loads

    # --- what the page calls -------------------------------------------------------------------

    def snapshot(self) -> JobSnapshot:
        """The latest state (immutable: the job replaces it, never changes it)."""
        with self._lock:
            return self._snapshot

    def heartbeat(self) -> None:
        """The page is still open: a run nobody has said this of for `abandon_after_s` stops.
        Ignored after `page_closed()` until `page_opened()`."""
        if not self._page_closed:
            self._abandon_at = time.monotonic() + self._abandon_after_s

    def page_closed(self, grace_s: float = CLOSED_PAGE_GRACE_S) -> None:
        """The page's session ended: stop the run (or stop waiting for a slot) unless the page says
        `page_opened()` within `grace_s`."""
        self._page_closed = True
        self._abandon_at = min(self._abandon_at, time.monotonic() + grace_s)

    def page_opened(self) -> None:
        """The page's session began, or came back after `page_closed()` (a network blip)."""
        self._page_closed = False
        self.heartbeat()

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
        self._stop_why = ""
        self.heartbeat()
        with self._lock:
            self._snapshot = replace(
                self._snapshot,
                state=JobState.WAITING,
                config=trainer.config,
                run_epochs=config.epochs,
                run_epochs_done=0,
                run_elapsed_s=0.0,
                eta_s=None,
                message="",
                trouble=None,
                placement=Placement(),
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
            self._snapshot = self._at_rest(JobState.IDLE, self._snapshot.weights_version + 1)

    def _at_rest(self, state: JobState, weights_version: int, message: str = "") -> JobSnapshot:
        """A snapshot of the trainer's weights with no run: replay starts over from them."""
        model = copy.deepcopy(self._trainer.model).eval()
        history = tuple(self._trainer.history)
        return JobSnapshot(
            state,
            self._trainer.config,
            history=history,
            weights_version=weights_version,
            message=message,
            model=model,
            epoch_weights=(weights_of(model, len(history), weights_version),),
        )

    def load(self, checkpoint: Checkpoint, source: str) -> None:
        """Stop any run and take a saved model: its weights, settings, history and training state.

        A checkpoint that does not fit raises ValueError and changes nothing. `source` says where it
        came from ("talk-cnn", "upload cnn.pt")."""
        self.stop()
        self._trainer.restore(checkpoint.model.state_dict(), checkpoint.config, checkpoint.history, checkpoint.training)
        with self._lock:
            self._losses = LossLog()
            self._snapshot = self._at_rest(JobState.LOADED, self._snapshot.weights_version + 1, source)

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

    def model(self) -> nn.Module:
        """The latest published weights (the ones `predict_proba` uses), never trained in place: copy
        them before changing them."""
        return self.snapshot().model

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Probabilities from the latest published weights; never waits for a batch."""
        return predict_proba(self.snapshot().model, images)

    # --- the training thread -------------------------------------------------------------------

    def _stop_if_abandoned(self) -> None:
        if time.monotonic() > self._abandon_at and not self._stop.is_set():
            self._stop_why = ABANDONED
            self._stop.set()

    def _run(self, epochs: int) -> None:
        hooks = RunHooks(
            waiting=self._on_waiting,
            started=lambda placement: self._on_started(placement, epochs),
            batch=self._on_batch,
            epoch=self._on_epoch,
        )
        self._clock = None
        first_epoch, first_batch = self._trainer.epochs_done, len(self._losses.view())
        try:
            done = self._runner.train(self._trainer, epochs, hooks, self._stop)
        except Diverged as error:
            self._set_trouble(error)
            self._finish(JobState.FAILED, f"training stopped: {error}; the weights are from before that batch")
            return
        except TrainingOutOfMemory as error:
            self._finish(JobState.FAILED, f"training stopped: {error}. The weights from before that batch are kept")
            return
        except RunLost as error:
            self._finish(JobState.FAILED, f"training stopped: {error}. The weights trained until then are kept")
            return
        except Exception as error:  # the page must show it; the thread must not die silently
            self._finish(JobState.FAILED, f"training failed: {type(error).__name__}: {error}")
            return
        if done is None:
            self._finish(JobState.STOPPED, f"stopped before it started{self._stop_why}")
            return
        outcome = JobState.FINISHED if len(done) == epochs else JobState.STOPPED
        self._record_run(outcome, first_epoch, first_batch)
        self._finish(outcome, "" if outcome == JobState.FINISHED else f"stopped{self._stop_why}")

    def _on_waiting(self, placement: Placement) -> None:
        with self._lock:
            if self._snapshot.placement != placement:
                self._snapshot = replace(self._snapshot, placement=placement)
        self._stop_if_abandoned()

    def _on_started(self, placement: Placement, epochs: int) -> None:
        self._clock = RunClock(epochs, self._trainer.estimated_evaluation_s())
        with self._lock:
            self._snapshot = replace(self._snapshot, state=JobState.RUNNING, placement=placement)

    def _on_batch(self, report: BatchReport) -> None:
        clock = self._clock
        seconds_left = clock.batch_done(report)
        with self._lock:
            self._losses.append(report.epoch - 1 + report.batch / report.batches, report.loss)
            self._snapshot = replace(
                self._snapshot,
                batch_losses=self._losses.view(),
                epoch=report.epoch,
                batch=report.batch,
                batches=report.batches,
                run_elapsed_s=clock.elapsed_s,
                eta_s=seconds_left,
            )
        if time.perf_counter() - self._published_at >= PUBLISH_EVERY_S:
            self._publish()
        self._stop_if_abandoned()

    def _on_epoch(self, result: EpochResult) -> None:
        self._clock.epoch_done(self._trainer.evaluation_s)
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
        self._set_trouble()

    def _set_trouble(self, not_finite: Diverged | None = None) -> None:
        trouble = diagnose(self._trainer.config, self._trainer.history, self._losses.view()[:, 1], not_finite)
        with self._lock:
            self._snapshot = replace(self._snapshot, trouble=trouble)

    def _publish(self) -> None:
        model = copy.deepcopy(self._trainer.model).eval()
        with self._lock:
            self._published_at = time.perf_counter()
            self._snapshot = replace(self._snapshot, weights_version=self._snapshot.weights_version + 1, model=model)

    def _record_run(self, outcome: JobState, first_epoch: int, first_batch: int) -> None:
        """Keep the run that just ended for comparison, before the page can see that it ended."""
        clock = self._clock
        if clock is None or not clock.batches_done:
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
                    duration_s=round(clock.elapsed_s, 3),
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
