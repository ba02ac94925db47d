"""The sidebar: the settings of the next run, Train / Stop / Reset, and the model's status."""

from __future__ import annotations

import streamlit as st

from .. import wording
from ..config import TrainConfig
from ..jobs import JobSnapshot, TrainingJob
from ..models import PRESETS
from . import state

# The choices offered, within TrainConfig's limits: powers of two, and rates 1, 2, 3, 5 per decade.
BATCH_SIZES = tuple(2**power for power in range(4, 13))
LEARNING_RATES = (1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 5e-2, 1e-1)


def settings() -> TrainConfig:
    """The hyperparameter widgets (in presentation mode, those a presenter rarely touches folded
    away); returns what they say now. Their first values come from `link.begin`."""
    presenting = state.presenting()
    if not presenting:
        st.header("Settings")
    st.radio(
        "Model",
        tuple(PRESETS),
        key="model",
        horizontal=True,
        on_change=state.apply_model_defaults,
        help="Choosing a model also sets its usual epochs, batch size and learning rate",
    )
    if not presenting:
        st.caption(PRESETS[st.session_state.model].description)
    epochs, seed = TrainConfig.limits("epochs"), TrainConfig.limits("seed")
    st.slider("Epochs", epochs.low, epochs.high, key="epochs")
    with st.expander("More settings") if presenting else st.container():
        st.select_slider("Batch size", BATCH_SIZES, key="batch_size")
        st.select_slider("Learning rate", LEARNING_RATES, key="lr", format_func=wording.format_learning_rate)
        st.number_input(
            "Random seed", seed.low, seed.high, key="seed", help="The same seed: the same first weights and batches"
        )
        st.toggle(
            "Augment (training digits look drawn)",
            key="augment",
            help="Random rotation, shear, stretch, shift and stroke width",
        )
    return state.chosen_config()


def presentation_switch() -> None:
    st.toggle(
        "Presentation mode",
        key="present",
        help="For a projector: large type and charts, only the controls a presenter touches. "
        "A link with ?present=1 opens in it.",
    )


def _train(job: TrainingJob) -> None:
    job.start(state.chosen_config())


def _reset(job: TrainingJob) -> None:
    job.reset(state.chosen_config())


def controls(job: TrainingJob, snapshot: JobSnapshot) -> None:
    train, stop, reset = st.columns(3)
    train.button(
        "Train",
        key="train",
        type="primary",
        width="stretch",
        disabled=snapshot.active,
        on_click=_train,
        args=(job,),
        help="Train the chosen number of epochs more, from the current weights",
    )
    # Stop does not wait for the batch under way: the page must not freeze; the poll shows the stop.
    stop.button(
        "Stop",
        key="stop",
        width="stretch",
        disabled=not snapshot.active,
        on_click=job.stop,
        kwargs={"wait": False},
        help="Stop after the batch under way; Train continues from there",
    )
    reset.button(
        "Reset",
        key="reset",
        width="stretch",
        on_click=_reset,
        args=(job,),
        help="New random weights from the chosen model and seed",
    )


def show_status(snapshot: JobSnapshot, chosen: TrainConfig) -> None:
    """The model's status, the run's progress, whether the settings differ from the model's, and
    where runs train when a Ray cluster was asked for."""
    st.markdown(wording.model_status(snapshot))
    if snapshot.active:
        st.progress(snapshot.run_fraction, text=wording.progress_label(snapshot))
    pending = wording.pending_notice(snapshot, chosen)
    if pending:
        st.warning(pending)
    cluster = wording.cluster_notice(state.cluster_status())
    if cluster is not None:
        (st.warning if cluster.kind == "warning" else st.caption)(cluster.text)
