"""The Train tab: progress, the latest numbers, and the loss and accuracy charts."""

from __future__ import annotations

import streamlit as st

from .. import charts, wording
from ..jobs import JobSnapshot, JobState
from .plot import show_chart
from .state import MAX_CONCURRENT_RUNS

NOTICE_STYLES = {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}


def show(snapshot: JobSnapshot) -> None:
    notice = wording.run_notice(snapshot, MAX_CONCURRENT_RUNS)
    NOTICE_STYLES[notice.kind](notice.text)
    if snapshot.state == JobState.RUNNING:
        st.progress(snapshot.run_fraction, text=wording.progress_label(snapshot))
    for column, (label, value, change) in zip(st.columns(4), wording.epoch_metrics(snapshot), strict=True):
        column.metric(label, value, change, delta_color="inverse" if label == "Loss" else "normal")
    trouble = wording.trouble_notice(snapshot)
    if trouble:
        st.warning(trouble, icon="⚠️")
    loss_column, accuracy_column = st.columns(2)
    with loss_column:
        show_chart(charts.loss_chart(snapshot.history, snapshot.batch_losses), "loss_chart")
    with accuracy_column:
        show_chart(charts.accuracy_chart(snapshot.history), "accuracy_chart")
