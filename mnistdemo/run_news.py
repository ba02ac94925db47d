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
    """Train `epochs` more epochs, telling every batch, the weights every PUBLISH_EVERY_S and the
    whole state after every epoch; the final state, and the error that ended the run if one did."""
    published = time.perf_counter()

    def on_batch(report: BatchReport) -> None:
        nonlocal published
        tell("batch", report)
        if time.perf_counter() - published >= PUBLISH_EVERY_S:
            tell("weights", on_cpu(trainer.model.state_dict()))
            published = time.perf_counter()

    def on_epoch(result: EpochResult) -> None:
        tell("epoch", trainer.state())

    try:
        trainer.run(epochs, on_batch=on_batch, on_epoch=on_epoch, stop=stop)
    except Exception as error:
        return trainer.state(), plain_error(error)
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
