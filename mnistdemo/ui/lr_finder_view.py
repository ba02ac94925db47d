"""The learning-rate finder, in the Train tab: try rising rates on a copy of the model, see the loss
against the rate, and take the suggested rate into the sidebar."""

from __future__ import annotations

import streamlit as st

from .. import charts, wording
from ..config import TrainConfig
from ..data import MnistData
from ..jobs import JobSnapshot, TrainingJob
from ..lr_finder import BATCHES, HIGHEST_LR, LOWEST_LR, LrFinding, find_learning_rate, starting_model
from ..share import nearest
from .plot import show_chart
from .sidebar import LEARNING_RATES

FINDING = "lr_finding"


def _use(rate: float) -> None:
    st.session_state.lr = rate


def render(job: TrainingJob, snapshot: JobSnapshot, chosen: TrainConfig, mnist: MnistData) -> None:
    with st.expander("Find a learning rate", expanded=FINDING in st.session_state):
        st.caption(
            f"Trains a copy of the model {BATCHES} batches with the rate rising from "
            f"{wording.format_learning_rate(LOWEST_LR)} to {wording.format_learning_rate(HIGHEST_LR)}, "
            "with the sidebar's model, batch size and augmentation. The model itself does not change."
        )
        if st.button(
            "Find a learning rate",
            key="find_lr",
            disabled=snapshot.active,
            help="Wait for the run to end" if snapshot.active else None,
        ):
            with st.spinner("Trying rising learning rates on a copy of the model…"):
                start = starting_model(job.model(), snapshot.config, chosen)
                st.session_state[FINDING] = (find_learning_rate(start, mnist, chosen), chosen)
        if FINDING in st.session_state:
            _show(*st.session_state[FINDING])


def _show(finding: LrFinding, config: TrainConfig) -> None:
    show_chart(
        charts.lr_finder_chart(finding.rates, finding.losses, finding.smoothed, finding.suggested), "lr_finder_chart"
    )
    found_for = (
        f"For {config.model}, batch size {config.batch_size}, augmentation {wording.format_setting(config.augment)}."
    )
    if finding.suggested is None:
        st.warning(f"{found_for} The loss never fell: no rate to suggest. Try a smaller batch size.")
        return
    offered = nearest(finding.suggested, LEARNING_RATES)
    rate = wording.format_learning_rate(offered)
    st.markdown(
        f"{found_for} The loss falls fastest at about **{wording.format_learning_rate(finding.suggested)}**"
        + (f" (the sidebar's nearest: {rate})." if offered != finding.suggested else ".")
    )
    st.button(f"Use {rate}", key="use_lr", type="primary", on_click=_use, args=(offered,))
