"""The Models tab: save the current model into the library or download it, load one from the library
or from a file, and mark the model every new session starts with.

Every action is a callback that leaves one message for the tab to show; a file that cannot be used
changes nothing but that message.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..checkpoint import Checkpoint, CheckpointError
from ..jobs import JobSnapshot, TrainingJob
from ..library import (
    DEFAULT_MARK,
    LibraryError,
    checkpoint_bytes,
    list_models,
    load_named,
    load_upload,
    save_model,
    set_default,
)
from . import startup, state

MESSAGE = "library_message"


def _say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def suggested_name(snapshot: JobSnapshot) -> str:
    return f"{snapshot.config.model}-{snapshot.epochs_done}-epochs"


def _take(job: TrainingJob, checkpoint: Checkpoint, source: str) -> None:
    job.load(checkpoint, source)
    state.set_settings(checkpoint.config)  # the sidebar says what the loaded model trained with
    _say("success", f"Loaded {source}: weights, settings and history. **Train** continues from here.")


def _save(job: TrainingJob, folder: Path) -> None:
    name = st.session_state.save_name.strip() or suggested_name(job.snapshot())
    try:
        saved = job.checkpoint()
        path = save_model(
            folder, name, saved.model, saved.config, saved.history, saved.training, st.session_state.save_replace
        )
    except (LibraryError, RuntimeError) as error:
        _say("error", f"Not saved: {error}.")
        return
    _say("success", f"Saved as **{path.stem}** in {folder}.")


def _load_from_library(job: TrainingJob, folder: Path, max_bytes: int) -> None:
    name = st.session_state.library_choice
    try:
        checkpoint = load_named(folder, name, max_bytes)
    except (CheckpointError, LibraryError) as error:
        _say("error", f"Not loaded: {error}. The current model is unchanged.")
        return
    _take(job, checkpoint, name)


def _load_upload(job: TrainingJob, max_bytes: int) -> None:
    upload = st.session_state.upload_model
    if upload is None:
        return
    try:
        checkpoint = load_upload(upload.name, upload.getvalue(), max_bytes)
    except (CheckpointError, LibraryError) as error:
        _say("error", f"Not loaded: {error}. The current model is unchanged.")
        return
    _take(job, checkpoint, upload.name)


def _mark_default(folder: Path, name: str | None) -> None:
    try:
        set_default(folder, name)
    except LibraryError as error:
        _say("error", f"{error}.")
        return
    if name is None:
        _say("success", "New sessions start untrained (unless the app was started with --model-file).")
    else:
        _say("success", f"New sessions start with **{name}** (unless the app was started with --model-file).")


def _download(job: TrainingJob) -> bytes:
    saved = job.checkpoint()
    return checkpoint_bytes(saved.model, saved.config, saved.history, suggested_name(job.snapshot()), saved.training)


def render(job: TrainingJob, snapshot: JobSnapshot) -> None:
    folder, max_bytes = startup.models_dir(), startup.max_upload_bytes()
    message = st.session_state.pop(MESSAGE, None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)
    save_column, upload_column = st.columns(2, gap="large")
    with save_column:
        _save_form(job, snapshot, folder)
    with upload_column:
        st.subheader("Load a model file")
        st.file_uploader(
            "A checkpoint saved here or by `python -m mnistdemo train --save`",
            type=["pt"],
            key="upload_model",
            on_change=_load_upload,
            args=(job, max_bytes),
            help=f"At most {max_bytes // 2**20} MB. It loads with torch's weights_only: nothing in it can run.",
        )
    _library(job, folder, max_bytes)


def _save_form(job: TrainingJob, snapshot: JobSnapshot, folder: Path) -> None:
    st.subheader("Save the current model")
    st.text_input("Name", key="save_name", placeholder=suggested_name(snapshot), max_chars=64)
    st.checkbox("Replace a model of the same name", key="save_replace")
    save, download = st.columns(2)
    waiting = "Wait for the run to end" if snapshot.active else None
    save.button(
        "Save model",
        key="save_model",
        type="primary",
        disabled=snapshot.active,
        on_click=_save,
        args=(job, folder),
        help=waiting or f"Into the library: {folder}",
        width="stretch",
    )
    download.download_button(
        "Download .pt",
        data=lambda: _download(job),
        file_name=f"{suggested_name(snapshot)}.pt",
        mime="application/octet-stream",
        key="download_model",
        on_click="ignore",
        disabled=snapshot.active,
        help=waiting or "The same checkpoint as a file",
        width="stretch",
    )


def _library(job: TrainingJob, folder: Path, max_bytes: int) -> None:
    st.subheader("The library")
    entries = list_models(folder, max_bytes)
    if not entries:
        st.info(f"No models saved in {folder} yet.")
        return
    st.dataframe(
        [
            {
                "name": entry.name,
                "model": entry.checkpoint.config.model if entry.checkpoint else "–",
                "epochs": len(entry.checkpoint.history) if entry.checkpoint else None,
                "test acc (%)": entry.checkpoint.test_acc if entry.checkpoint else None,
                "saved": entry.checkpoint.saved_at.replace("T", " ")[:16] if entry.checkpoint else "",
                "starts sessions": "✓" if entry.default else "",
                "problem": entry.problem,
            }
            for entry in entries
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(f"Folder: {folder}. Carry it to a talk; `{DEFAULT_MARK}` in it names the model sessions start with.")
    usable = [entry.name for entry in entries if entry.checkpoint]
    if not usable:
        return
    choice, load, mark, unmark = st.columns([3, 1, 2, 2], vertical_alignment="bottom")
    choice.selectbox("Model", usable, key="library_choice")
    load.button("Load", key="load_model", on_click=_load_from_library, args=(job, folder, max_bytes), width="stretch")
    mark.button(
        "Start sessions with it",
        key="mark_default",
        on_click=lambda: _mark_default(folder, st.session_state.library_choice),
        width="stretch",
        help="Every new page session starts with this model (saved in the folder)",
    )
    unmark.button(
        "Start untrained",
        key="unmark_default",
        on_click=_mark_default,
        args=(folder, None),
        disabled=not any(entry.default for entry in entries),
        width="stretch",
    )
