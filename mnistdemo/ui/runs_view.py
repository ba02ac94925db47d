"""Compare runs, in the Train tab: every run that ended, as a table; the ticked ones overlaid (loss and
test accuracy); the runs as CSV or JSON, and runs from a JSON file (made elsewhere, a sweep say)."""

from __future__ import annotations

import streamlit as st

from .. import charts, comparison
from ..jobs import TrainingJob
from ..runs import RunRecord, runs_from_json, runs_to_csv, runs_to_json
from .plot import show_chart

SHOWN = "runs_shown"


def _tick_new_runs(records: tuple[RunRecord, ...]) -> None:
    """A run that just ended joins the overlay; runs the user unticked stay unticked."""
    seen = st.session_state.get("runs_seen", 0)
    if len(records) > seen:
        shown = list(st.session_state.get(SHOWN) or [])
        st.session_state[SHOWN] = shown + [record.number for record in records[seen:]]
        st.session_state.runs_seen = len(records)


def _add_runs(job: TrainingJob) -> None:
    upload = st.session_state.upload_runs
    if upload is None:
        return
    try:
        job.add_runs(runs_from_json(upload.getvalue()))
    except ValueError as error:
        st.session_state.runs_message = f"{upload.name} was not added: {error}."


def render(job: TrainingJob) -> None:
    records = job.runs()
    with st.expander(f"Compare runs ({len(records)})", expanded=bool(records)):
        problem = st.session_state.pop("runs_message", None)
        if problem:
            st.error(problem)
        if records:
            _compare(records)
        else:
            st.caption(
                "Every run that ends, finished or stopped, is kept here: change a setting, press Reset and "
                "Train again, then see both runs' curves together."
            )
        st.file_uploader(
            "Add runs from a JSON file (as downloaded here)",
            type=["json"],
            key="upload_runs",
            on_change=_add_runs,
            args=(job,),
        )


def _compare(records: tuple[RunRecord, ...]) -> None:
    _tick_new_runs(records)
    st.pills(
        "Runs to overlay",
        [record.number for record in records],
        selection_mode="multi",
        key=SHOWN,
        format_func=lambda number: f"run {number}",
    )
    shown = [record for record in records if record.number in (st.session_state.get(SHOWN) or [])]
    loss_column, accuracy_column = st.columns(2)
    with loss_column:
        show_chart(
            charts.comparison_chart(comparison.loss_series(shown), "Loss of the runs", "loss (batch mean)"),
            "runs_loss_chart",
        )
    with accuracy_column:
        show_chart(
            charts.comparison_chart(
                comparison.accuracy_series(shown), "Test accuracy of the runs", "test accuracy (%)", ".2f"
            ),
            "runs_accuracy_chart",
        )
    st.dataframe(comparison.table_rows(records), hide_index=True, width="stretch")
    downloads = (
        ("Runs as CSV", runs_to_csv, "csv", "text/csv"),
        ("Runs as JSON", runs_to_json, "json", "application/json"),
    )
    for column, (label, write, suffix, mime) in zip(st.columns([1, 1, 2]), downloads, strict=False):
        column.download_button(
            label,
            data=lambda write=write: write(records),
            file_name=f"mnistdemo-runs.{suffix}",
            mime=mime,
            key=f"runs_{suffix}",
            on_click="ignore",
            width="stretch",
        )
