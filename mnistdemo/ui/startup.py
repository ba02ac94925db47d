"""What the app was started with, and the model every new session starts with.

`streamlit run app.py -- --model-file PATH --models-dir DIR` (and `bash scripts/app.sh -- ...`):
Streamlit hands the script the arguments after `--`. Without `--model-file`, sessions start with the
library's default model when one is marked (library.DEFAULT_MARK), else untrained.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ..checkpoint import Checkpoint, CheckpointError
from ..library import LibraryError, default_name, load_file, model_path, resolve_models_dir


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="streamlit run app.py --", allow_abbrev=False, add_help=False)
    parser.add_argument("--model-file", metavar="PATH", help="a checkpoint every new session starts with")
    parser.add_argument("--models-dir", metavar="DIR", help="the model library's folder")
    return parser


@dataclass(frozen=True)
class AppOptions:
    model_file: str | None = None
    models_dir: str | None = None
    problem: str = ""  # arguments the app could not use


def _script_arguments() -> list[str]:
    """The arguments given to app.py itself: none when something else (a test runner) runs it."""
    context = get_script_run_ctx()
    if context is None or Path(sys.argv[0]).resolve() != Path(context.main_script_path).resolve():
        return []
    return sys.argv[1:]


def options() -> AppOptions:
    arguments = _script_arguments()
    try:
        parsed = _parser().parse_args(arguments)
    except ValueError as error:
        return AppOptions(problem=f"the app's arguments {' '.join(arguments)!r} were not understood: {error}")
    return AppOptions(parsed.model_file, parsed.models_dir)


def models_dir() -> Path:
    return resolve_models_dir(options().models_dir)


def max_upload_bytes() -> int:
    """The size limit of a checkpoint, from .streamlit/config.toml (`server.maxUploadSize`, in MB)."""
    return int(st.get_option("server.maxUploadSize")) * 2**20


@dataclass(frozen=True)
class StartModel:
    checkpoint: Checkpoint | None = None
    label: str = ""  # where it came from, as the page names it
    problem: str = ""  # why the model named at start could not be had


@st.cache_resource(show_spinner="Loading the start model…", max_entries=4)
def _load(path: str, modified_ns: int, size: int, max_bytes: int) -> Checkpoint:
    """Read once per server and file version; each session's job copies the weights it takes."""
    return load_file(path, max_bytes)


def _read(path: Path, label: str) -> StartModel:
    try:
        status = path.stat()
    except OSError as error:
        return StartModel(problem=f"cannot read {path}: {error.strerror}")
    try:
        return StartModel(_load(str(path), status.st_mtime_ns, status.st_size, max_upload_bytes()), label)
    except (CheckpointError, LibraryError) as error:
        return StartModel(problem=str(error))


def start_model() -> StartModel:
    """The model named at start (`--model-file`), else the library's default, else none."""
    chosen = options()
    if chosen.problem:
        return StartModel(problem=chosen.problem)
    if chosen.model_file:
        path = Path(chosen.model_file).expanduser()
        return _read(path, path.name)
    folder = models_dir()
    try:
        name = default_name(folder)
        return _read(model_path(folder, name), name) if name else StartModel()
    except LibraryError as error:
        return StartModel(problem=str(error))
