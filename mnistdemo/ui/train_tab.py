"""The Train tab: progress, the latest numbers, and the loss and accuracy charts."""

from __future__ import annotations

import streamlit as st

from .. import charts, status
from ..jobs import JobSnapshot, JobState
from .shared import show_chart, show_notice
from .state import MAX_CONCURRENT_RUNS


def show(snapshot: JobSnapshot) -> None:
    show_notice(status.run_notice(snapshot, MAX_CONCURRENT_RUNS))
    if snapshot.state == JobState.RUNNING:
        st.progress(snapshot.run_fraction, text=status.progress_label(snapshot))
    for column, (label, value, change) in zip(st.columns(4), status.epoch_metrics(snapshot)):
        column.metric(label, value, change, delta_color="inverse" if label == "Loss" else "normal")
    loss_column, accuracy_column = st.columns(2)
    with loss_column:
        show_chart(charts.loss_chart(snapshot.history, snapshot.batch_losses), "loss_chart")
    with accuracy_column:
        show_chart(charts.accuracy_chart(snapshot.history), "accuracy_chart")
