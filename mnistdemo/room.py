"""The room: one model the presenter shares with every visitor, and the drawings they send back.

The presenter's page shares the current weights; every visitor's page reads their drawing with that
one copy (read-only, shared by all sessions of the server) and, once they say which digit they meant,
keeps it in the `DrawingStore`. Sharing again replaces the copy for everyone at their next stroke.
The shared model is also written as a checkpoint beside the database, so a restarted server serves it
again and `python -m mnistdemo evaluate` can score it. No Streamlit here.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import resolve_data_dir
from .inference import predict_proba, top_guess
from .join import is_local_host
from .room_store import DrawingStore
from .training import EpochResult

DB_ENV = "MNISTDEMO_ROOM_DB"
PRESENTER_KEY_ENV = "MNISTDEMO_ROOM_KEY"
DB_NAME = "room.sqlite3"  # in the data folder unless told otherwise
WEIGHTS_ID_LENGTH = 12  # hex digits of the weights' SHA-256: enough to tell a room's models apart


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """The room's database: `path`, else $MNISTDEMO_ROOM_DB, else room.sqlite3 in the data folder."""
    chosen = path or os.environ.get(DB_ENV)
    return Path(chosen).expanduser() if chosen else resolve_data_dir() / DB_NAME


def model_path(db_path: Path) -> Path:
    """Where the shared model is kept: beside the database (room.sqlite3 -> room-model.pt)."""
    return db_path.with_name(f"{db_path.stem}-model.pt")


def may_present(remote_ip: str | None, given_key: str | None, key: str | None = None) -> bool:
    """Whether a browser may share a model with the room and see everyone's drawings.

    With a room key (`key`, else $MNISTDEMO_ROOM_KEY) only a browser that gives it; without one only
    a browser on this machine (`remote_ip` a loopback address, or None as Streamlit reports some; it
    takes the address from the connection itself, which a visitor cannot choose)."""
    key = key if key is not None else os.environ.get(PRESENTER_KEY_ENV)
    if key:
        return given_key is not None and hmac.compare_digest(given_key.encode(), key.encode())
    return remote_ip is None or (isinstance(remote_ip, str) and is_local_host(remote_ip))


def weights_id(model: nn.Module) -> str:
    """A short fingerprint of the weights: the same weights give the same id, in any process."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:WEIGHTS_ID_LENGTH]


@dataclass(frozen=True)
class SharedModel:
    """The weights the room reads drawings with (never trained: a frozen copy)."""

    model: nn.Module
    config: TrainConfig
    epochs: int  # epochs it had trained when shared
    weights_id: str
    version: int  # counts the shares since the server started: it changes at every share
    shared_at: float  # seconds since the epoch


@dataclass(frozen=True)
class Reading:
    """What the shared model made of one drawing, as the visitor saw it."""

    image: np.ndarray  # (28, 28) float32, what the model saw
    probabilities: np.ndarray  # (10,)
    model: SharedModel

    @property
    def guess(self) -> int:
        return top_guess(self.probabilities)[0]


def _frozen_copy(model: nn.Module) -> nn.Module:
    frozen = copy.deepcopy(model).cpu().eval()
    for parameter in frozen.parameters():
        parameter.requires_grad_(False)
    return frozen


class Room:
    """The shared model and the drawings store of one server (thread-safe)."""

    def __init__(self, db_path: str | os.PathLike):
        self.db_path = Path(db_path)
        self.store = DrawingStore(self.db_path)
        self.model_path = model_path(self.db_path)
        self._lock = threading.Lock()
        self._shared: SharedModel | None = None
        self.restore_problem = ""  # why the model kept from before a restart could not be served
        if self.model_path.exists():
            try:
                model, config, history = load_checkpoint(self.model_path)
            except CheckpointError as error:
                self.restore_problem = str(error)
            else:
                self._shared = SharedModel(
                    _frozen_copy(model), config, len(history), weights_id(model), 1, self.model_path.stat().st_mtime
                )

    def shared(self) -> SharedModel | None:
        """The model visitors draw against now; None before the presenter shared one."""
        with self._lock:
            return self._shared

    def share(self, model: nn.Module, config: TrainConfig, history: list[EpochResult]) -> SharedModel:
        """Make a copy of `model` the room's model, for every visitor from their next stroke on."""
        frozen = _frozen_copy(model)
        partial = self.model_path.with_name(self.model_path.name + ".partial")
        save_checkpoint(partial, frozen, config, history)
        os.replace(partial, self.model_path)  # a crash leaves the old file or the new one, never half of one
        with self._lock:
            version = self._shared.version + 1 if self._shared else 1
            self._shared = SharedModel(frozen, config, len(history), weights_id(frozen), version, time.time())
            return self._shared

    def read(self, image: np.ndarray) -> Reading | None:
        """The shared model's probabilities for one (28, 28) drawing; None when nothing is shared."""
        shared = self.shared()
        if shared is None:
            return None
        return Reading(image, predict_proba(shared.model, image[None])[0], shared)

    def keep(self, visitor: str, reading: Reading, intended: int) -> int:
        """Store a drawing with the digit its visitor meant; raises SubmissionError for a bad one."""
        return self.store.add(
            visitor,
            reading.image,
            intended,
            reading.probabilities,
            reading.model.config.model,
            reading.model.weights_id,
        )
