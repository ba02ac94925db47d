"""The room's drawings, kept: one SQLite table (Python's `sqlite3`, WAL mode) with a schema version.

Each row is one drawing a visitor sent with the digit they meant: the 28×28 input the model saw, the
intended digit, the model's guess and its ten probabilities, which model, when, and a random token
for the visitor's browser session (never shown, only compared: a visitor may take back their own
drawing and nobody else's). A submission that is not a drawing is refused whole and stores nothing.
Every row is committed at once, so a restarted server finds them all. `DrawingSet` holds them as
arrays for the presenter's view, the `.npz` export and `python -m mnistdemo evaluate --drawings`.
"""

from __future__ import annotations

import io
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

SCHEMA_VERSION = 1  # PRAGMA user_version: a file made by a newer mnistdemo is refused, not misread
DIGITS = 10
IMAGE_SHAPE = (28, 28)
BUSY_TIMEOUT_S = 5.0  # another process (the CLI) may hold the file for a moment
PROBABILITY_TOLERANCE = 1e-3  # the ten probabilities sum to 1 within float32 rounding

SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    visitor TEXT NOT NULL,
    image BLOB NOT NULL,
    intended INTEGER NOT NULL CHECK (intended BETWEEN 0 AND 9),
    guess INTEGER NOT NULL CHECK (guess BETWEEN 0 AND 9),
    probabilities BLOB NOT NULL,
    model TEXT NOT NULL,
    model_id TEXT NOT NULL
)
"""
COLUMNS = "id, created_at, image, intended, guess, probabilities, model, model_id"


class StoreError(Exception):
    """The file cannot serve as the room's drawings; the message says why."""


class SubmissionError(ValueError):
    """A submission that is not a drawing with its digit; nothing was stored."""


@dataclass(frozen=True)
class DrawingSet:
    """Drawings as arrays, oldest first (N rows)."""

    ids: np.ndarray  # (N,) int64
    created_at: np.ndarray  # (N,) float64, seconds since the epoch
    images: np.ndarray  # (N, 28, 28) float32 in 0..1, ink high: what the model saw
    intended: np.ndarray  # (N,) int64: the digit the visitor meant
    guesses: np.ndarray  # (N,) int64: the model's top guess
    probabilities: np.ndarray  # (N, 10) float32
    models: np.ndarray  # (N,) str: the preset
    model_ids: np.ndarray  # (N,) str: which weights (`room.weights_id`)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def accuracy(self) -> float | None:
        """Percent of drawings the model read as the digit meant; None when there are none."""
        return 100.0 * float(np.mean(self.guesses == self.intended)) if len(self) else None

    def of_model(self, model_id: str) -> DrawingSet:
        """Only the drawings read by the weights `model_id`."""
        keep = self.model_ids == model_id
        return DrawingSet(*(getattr(self, name)[keep] for name in self.__dataclass_fields__))

    def save_npz(self, destination: str | os.PathLike | BinaryIO) -> None:
        """The drawings as a NumPy `.npz` (images, labels = the intended digits, guesses, ...)."""
        np.savez_compressed(
            destination,
            images=self.images,
            labels=self.intended,
            guesses=self.guesses,
            probabilities=self.probabilities,
            models=self.models.astype(str),
            model_ids=self.model_ids.astype(str),
            created_at=self.created_at,
        )

    def npz_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.save_npz(buffer)
        return buffer.getvalue()


def _checked(image: np.ndarray, intended: int, probabilities: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """The submission as stored, or SubmissionError saying what is wrong with it."""
    shape = np.shape(image)
    if shape != IMAGE_SHAPE:  # before any conversion: an oversized array is refused without a copy
        raise SubmissionError(f"the drawing must be 28 × 28, not {' × '.join(map(str, shape)) or 'a number'}")
    try:
        image = np.asarray(image, dtype=np.float32)
        probabilities = np.asarray(probabilities, dtype=np.float32)
    except (TypeError, ValueError):
        raise SubmissionError("the drawing is not an array of numbers") from None
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise SubmissionError("the drawing's pixels must be between 0 and 1")
    if not image.any():
        raise SubmissionError("the drawing is empty")
    if isinstance(intended, bool) or not isinstance(intended, (int, np.integer)) or not 0 <= intended < DIGITS:
        raise SubmissionError(f"the digit meant must be one of 0–9, not {intended!r}")
    if probabilities.shape != (DIGITS,) or not np.isfinite(probabilities).all() or probabilities.min() < 0:
        raise SubmissionError("the model's answer must be ten probabilities")
    if abs(float(probabilities.sum()) - 1) > PROBABILITY_TOLERANCE:
        raise SubmissionError("the model's ten probabilities must add up to 1")
    return image, int(intended), probabilities


class DrawingStore:
    """The room's drawings in one SQLite file, shared by every session of the server (thread-safe)."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        if read_only and not self.path.is_file():
            raise StoreError(f"no drawings database at {self.path}")
        if not read_only and not self.path.parent.is_dir():
            raise StoreError(f"cannot keep the room's drawings in {self.path}: there is no folder {self.path.parent}")
        self._lock = threading.Lock()
        try:
            target = f"file:{self.path}?mode=ro" if read_only else str(self.path)
            self._db = sqlite3.connect(target, uri=read_only, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            self._prepare(read_only)
        except sqlite3.DatabaseError as error:  # not a database, unreadable, read-only folder...
            raise StoreError(f"cannot use {self.path} for the room's drawings ({error})") from None

    def _prepare(self, read_only: bool) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was made by a newer mnistdemo (schema {version}, this one reads {SCHEMA_VERSION})"
            )
        if tables and (version != SCHEMA_VERSION or "drawings" not in tables):
            raise StoreError(f"{self.path} is a database of something else, not the room's drawings")
        if read_only:
            if not tables:
                raise StoreError(f"{self.path} holds no drawings table")
            return
        # WAL: the presenter's view reads while visitors write, and a crash loses no committed row.
        self._db.execute("PRAGMA journal_mode = WAL")
        with self._db:
            self._db.execute(SCHEMA)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(
        self, visitor: str, image: np.ndarray, intended: int, probabilities: np.ndarray, model: str, model_id: str
    ) -> int:
        """Keep one drawing; returns its id. Raises SubmissionError (storing nothing) for anything
        that is not a 28×28 drawing with a digit 0–9 and ten probabilities."""
        image, intended, probabilities = _checked(image, intended, probabilities)
        if not visitor or not model or not model_id:
            raise SubmissionError("a drawing needs its visitor and its model")
        row = (
            time.time(),
            visitor,
            image.astype("<f4").tobytes(),
            intended,
            int(probabilities.argmax()),
            probabilities.astype("<f4").tobytes(),
            model,
            model_id,
        )
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO drawings (created_at, visitor, image, intended, guess, probabilities, model, model_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        return int(cursor.lastrowid)

    def take_back(self, drawing_id: int, visitor: str) -> bool:
        """Delete a drawing if `visitor` sent it; False (and nothing changed) otherwise."""
        with self._lock, self._db:
            cursor = self._db.execute("DELETE FROM drawings WHERE id = ? AND visitor = ?", (drawing_id, visitor))
        return cursor.rowcount == 1

    def remove(self, drawing_id: int) -> bool:
        """Delete any drawing (the presenter's view: a drawing not fit for the wall)."""
        with self._lock, self._db:
            cursor = self._db.execute("DELETE FROM drawings WHERE id = ?", (drawing_id,))
        return cursor.rowcount == 1

    def counts(self) -> tuple[int, int]:
        """(drawings, visitors who sent at least one)."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*), COUNT(DISTINCT visitor) FROM drawings").fetchone()

    def answers(self, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(digits meant, guesses) of every drawing the weights `model_id` read: what the room's
        accuracy and confusion matrix need, without the images."""
        with self._lock:
            rows = self._db.execute("SELECT intended, guess FROM drawings WHERE model_id = ? ORDER BY id", (model_id,))
            pairs = np.array(rows.fetchall(), dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def drawings(self, latest: int | None = None) -> DrawingSet:
        """Every drawing, or the `latest` ones, oldest first."""
        query = f"SELECT {COLUMNS} FROM drawings ORDER BY id"
        if latest is not None:
            query = f"SELECT * FROM (SELECT {COLUMNS} FROM drawings ORDER BY id DESC LIMIT {int(latest)}) ORDER BY id"
        with self._lock:
            rows = self._db.execute(query).fetchall()
        return _as_arrays(rows)


def _as_arrays(rows: list[tuple]) -> DrawingSet:
    ids, created, images, intended, guesses, probabilities, models, model_ids = (
        zip(*rows, strict=True) if rows else [()] * 8
    )
    return DrawingSet(
        ids=np.array(ids, dtype=np.int64),
        created_at=np.array(created, dtype=np.float64),
        images=np.frombuffer(b"".join(images), dtype="<f4").reshape(-1, *IMAGE_SHAPE).astype(np.float32),
        intended=np.array(intended, dtype=np.int64),
        guesses=np.array(guesses, dtype=np.int64),
        probabilities=np.frombuffer(b"".join(probabilities), dtype="<f4").reshape(-1, DIGITS).astype(np.float32),
        models=np.array(models, dtype=str),
        model_ids=np.array(model_ids, dtype=str),
    )


def read_drawings(path: str | os.PathLike) -> DrawingSet:
    """Every drawing in a room's database, opened read-only (the CLI; a running server may be writing)."""
    store = DrawingStore(path, read_only=True)
    try:
        return store.drawings()
    finally:
        store.close()
