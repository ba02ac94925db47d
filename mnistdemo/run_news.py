"""A run's news, as a driver process tells it to the app (`cluster` lists the events): the training
loop that tells it, and the pipe it goes through. Shared by Ray's actors (`ray_driver`) and this
server's own training process (`train_process`); nothing here imports Ray."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from .jobs import PUBLISH_EVERY_S
from .training import BatchReport, EpochResult, Trainer, on_cpu

# Batches go in bundles: a message per batch (a thousand a second for two seed runs) costs the server
# a hand-over of its GIL between two of its threads for each.
BATCHES_EVERY_S = 0.1


def plain_error(error: Exception) -> Exception:
    """`error` if it survives pickling (the page then handles it like one raised at home), else a
    RuntimeError saying the same."""
    try:
        return pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def train_telling(
    trainer: Trainer, epochs: int, tell: Callable[..., None], stop: threading.Event
) -> tuple[dict[str, Any], Exception | None]:
    """Train `epochs` more epochs, telling the batches every BATCHES_EVERY_S, the weights every
    PUBLISH_EVERY_S and the whole state after every epoch, each after the batches before it; the
    final state, and the error that ended the run if one did."""
    batches: list[BatchReport] = []
    told = published = time.perf_counter()

    def tell_batches() -> None:
        nonlocal told
        if batches:
            tell("batches", batches.copy())
            batches.clear()
        told = time.perf_counter()

    def on_batch(report: BatchReport) -> None:
        nonlocal published
        batches.append(report)
        now = time.perf_counter()
        if now - told >= BATCHES_EVERY_S:
            tell_batches()
        if now - published >= PUBLISH_EVERY_S:
            tell_batches()
            tell("weights", on_cpu(trainer.model.state_dict()))
            published = now

    def on_epoch(result: EpochResult) -> None:
        tell_batches()
        tell("epoch", trainer.state())

    try:
        trainer.run(epochs, on_batch=on_batch, on_epoch=on_epoch, stop=stop)
    except Exception as error:
        tell_batches()
        return trainer.state(), plain_error(error)
    tell_batches()
    return trainer.state(), None


class Events:
    """The pipe to the parent, written by every run's thread."""

    def __init__(self, pipe: BinaryIO):
        self._pipe = pipe
        self._lock = threading.Lock()

    def send(self, *event: Any) -> None:
        with self._lock:
            pickle.dump(event, self._pipe, protocol=pickle.HIGHEST_PROTOCOL)
            self._pipe.flush()
