"""The model library: named checkpoints in one folder, trained at home and carried to a talk.

The folder is `--models-dir`, else $MNISTDEMO_MODELS_DIR, else `models/` in the data folder (so that
carrying the data folder carries the models). A model is `NAME.pt`, the CLI's checkpoint (it loads
with `weights_only=True`) holding its name and date; `default.txt` names the model every new page
session starts with. A name is letters, digits, spaces, `-`, `_` and `.`, starting with a letter, a
digit or `_`: it cannot leave the folder. Every load checks the file's size first.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from .checkpoint import Checkpoint, CheckpointError, read_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import resolve_data_dir
from .training import EpochResult

MODELS_DIR_ENV = "MNISTDEMO_MODELS_DIR"
SUFFIX = ".pt"
DEFAULT_MARK = "default.txt"
MAX_NAME_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 ._-]*")


class LibraryError(Exception):
    """A name, a folder or a file the library cannot use; the message says why."""


def resolve_models_dir(models_dir: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder given, else $MNISTDEMO_MODELS_DIR, else `models/` in the data folder."""
    chosen = models_dir or os.environ.get(MODELS_DIR_ENV)
    return Path(chosen).expanduser() if chosen else resolve_data_dir(data_dir) / "models"


def is_library_name(text: str) -> bool:
    """Whether a command-line argument names a library model rather than a file: no folder, no .pt."""
    return not any(separator and separator in text for separator in (os.sep, os.altsep)) and not text.endswith(SUFFIX)


def check_name(name: str) -> str:
    """`name` as the library keeps it (trimmed, without a trailing .pt); LibraryError when it could
    name anything but a file directly in the folder."""
    trimmed = str(name).strip().removesuffix(SUFFIX).strip()
    if not trimmed:
        raise LibraryError("a model needs a name")
    if len(trimmed) > MAX_NAME_LENGTH:
        raise LibraryError(f"a model name has at most {MAX_NAME_LENGTH} characters, got {len(trimmed)}")
    if not _NAME.fullmatch(trimmed):
        raise LibraryError(
            f"{trimmed!r} cannot be a model name: use letters, digits, spaces, - _ and . "
            "(starting with a letter, a digit or _), so that it stays inside the models folder"
        )
    return trimmed


def model_path(folder: Path, name: str) -> Path:
    """Where model `name` lives; LibraryError when the name, or a link of that name, leads outside."""
    path = folder / f"{check_name(name)}{SUFFIX}"
    if path.resolve().parent != folder.resolve():
        raise LibraryError(f"{path.name} leads outside the models folder {folder}")
    return path


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def check_size(size: int, max_bytes: int | None, label: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise LibraryError(f"{label} is {_megabytes(size)}: checkpoints above {_megabytes(max_bytes)} are refused")


def load_file(path: str | os.PathLike, max_bytes: int | None = None, label: str | None = None) -> Checkpoint:
    """The checkpoint at `path`, refused unread when larger than `max_bytes`."""
    label = label or str(path)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {label}") from None
    except OSError as error:
        raise CheckpointError(f"cannot read {label}: {error.strerror}") from None
    check_size(size, max_bytes, label)
    return read_checkpoint(path, label)


def load_upload(file_name: str, content: bytes, max_bytes: int | None = None) -> Checkpoint:
    """A checkpoint sent from a browser: a .pt file within `max_bytes`."""
    if not file_name.lower().endswith(SUFFIX):
        raise LibraryError(f"{file_name} is not a {SUFFIX} file")
    check_size(len(content), max_bytes, file_name)
    return read_checkpoint(io.BytesIO(content), file_name)


def load_named(folder: Path, name: str, max_bytes: int | None = None) -> Checkpoint:
    path = model_path(folder, name)
    if not path.exists():
        raise LibraryError(f"the library in {folder} holds no model named {check_name(name)!r}")
    return load_file(path, max_bytes, label=f"the model {check_name(name)!r}")


def checkpoint_bytes(
    model: nn.Module, config: TrainConfig, history: list[EpochResult], name: str = "", training: dict | None = None
) -> bytes:
    """The checkpoint file's content, as a download offers it."""
    buffer = io.BytesIO()
    save_checkpoint(buffer, model, config, history, name, training)
    return buffer.getvalue()


def _write_atomically(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write into a temporary file beside `path`, then rename: an interrupted save leaves no half file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".saving-", suffix=SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_model(
    folder: Path,
    name: str,
    model: nn.Module,
    config: TrainConfig,
    history: list[EpochResult],
    training: dict | None = None,
    replace: bool = False,
) -> Path:
    """Save into the library as `name`; LibraryError when the name is taken (unless `replace`) or the
    folder cannot be written."""
    name = check_name(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = model_path(folder, name)
        if path.exists() and not replace:
            raise LibraryError(f"the library already holds a model named {name!r}")
        _write_atomically(path, lambda file: save_checkpoint(file, model, config, history, name, training))
    except OSError as error:
        raise LibraryError(f"cannot save into {folder}: {error.strerror or error}") from None
    return path


@dataclass(frozen=True)
class LibraryEntry:
    """One file of the library: its checkpoint, or why it cannot be loaded."""

    name: str
    path: Path
    checkpoint: Checkpoint | None
    problem: str = ""
    default: bool = False


def default_name(folder: Path) -> str | None:
    """The model marked to start every session, or None; LibraryError when the mark is not a name."""
    try:
        marked = (folder / DEFAULT_MARK).read_text().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise LibraryError(f"cannot read {folder / DEFAULT_MARK}: {error}") from None
    if not marked:
        return None
    try:
        return check_name(marked)
    except LibraryError as error:
        raise LibraryError(f"{DEFAULT_MARK} in {folder} marks no model: {error}") from None


def set_default(folder: Path, name: str | None) -> None:
    """Mark model `name` (which must load) to start every new session; None removes the mark."""
    mark = folder / DEFAULT_MARK
    try:
        if name is None:
            mark.unlink(missing_ok=True)
            return
        name = check_name(name)
        if not model_path(folder, name).is_file():
            raise LibraryError(f"the library holds no model named {name!r}")
        mark.write_text(f"{name}\n")
    except OSError as error:
        raise LibraryError(f"cannot mark the default model in {folder}: {error.strerror or error}") from None


def list_models(folder: Path, max_bytes: int | None = None) -> list[LibraryEntry]:
    """Every model file in the folder, by name; those that cannot be loaded say why."""
    if not folder.is_dir():
        return []
    try:
        marked = default_name(folder)
    except LibraryError:
        marked = None
    entries = []
    for path in sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.name.lower()):
        name = path.name.removesuffix(SUFFIX)
        if not _NAME.fullmatch(name):
            continue  # a temporary file of a save under way, or a name the library would not give
        try:
            entries.append(LibraryEntry(name, path, load_named(folder, name, max_bytes), default=name == marked))
        except (CheckpointError, LibraryError) as error:
            entries.append(LibraryEntry(name, path, None, str(error), default=name == marked))
    return entries
