"""The sidebar: the settings of the next run, Train / Stop / Reset, and the model's status."""

from __future__ import annotations

import streamlit as st

from .. import status
from ..jobs import JobSnapshot, TrainingJob
from ..models import MODEL_DESCRIPTIONS, MODEL_NAMES
from ..training import TrainConfig
from . import state

MAX_SEED = 2_147_483_647


def settings() -> TrainConfig:
    """The hyperparameter widgets; returns what they say now."""
    for field in state.SETTINGS:
        st.session_state.setdefault(field, getattr(TrainConfig(), field))  # the notebook's defaults
    st.header("Settings")
    st.radio("Model", MODEL_NAMES, key="model", horizontal=True, on_change=state.apply_model_defaults,
             help="Choosing a model also sets its usual epochs, batch size and learning rate")  # fmt: skip
    st.caption(MODEL_DESCRIPTIONS[st.session_state.model])
    st.slider("Epochs", 1, status.MAX_EPOCHS, key="epochs")
    st.select_slider("Batch size", status.BATCH_SIZES, key="batch_size")
    st.select_slider("Learning rate", status.LEARNING_RATES, key="lr", format_func=status.format_learning_rate)
    st.number_input("Random seed", 0, MAX_SEED, key="seed", help="The same seed: the same first weights and batches")
    st.toggle("Augment (training digits look drawn)", key="augment",
              help="Random rotation, shear, stretch, shift and stroke width")  # fmt: skip
    return state.chosen_config()


def _train(job: TrainingJob) -> None:
    job.start(state.chosen_config())


def _reset(job: TrainingJob) -> None:
    job.reset(state.chosen_config())


def controls(job: TrainingJob, snapshot: JobSnapshot) -> None:
    train, stop, reset = st.columns(3)
    train.button("Train", key="train", type="primary", width="stretch", disabled=snapshot.active, on_click=_train,
                 args=(job,), help="Train the chosen number of epochs more, from the current weights")  # fmt: skip
    # Stop does not wait for the batch under way: the page must not freeze; the poll shows the stop.
    stop.button("Stop", key="stop", width="stretch", disabled=not snapshot.active, on_click=job.stop,
                kwargs={"wait": False}, help="Stop after the batch under way; Train continues from there")  # fmt: skip
    reset.button("Reset", key="reset", width="stretch", on_click=_reset, args=(job,),
                 help="New random weights from the chosen model and seed")  # fmt: skip


def show_status(snapshot: JobSnapshot, chosen: TrainConfig) -> None:
    """The model's status, the run's progress, and whether the settings differ from the model's."""
    st.markdown(status.model_status(snapshot))
    if snapshot.active:
        st.progress(snapshot.run_fraction, text=status.progress_label(snapshot))
    pending = status.pending_notice(snapshot, chosen)
    if pending:
        st.warning(pending)
