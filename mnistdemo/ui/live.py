"""The live view: one fragment that redraws everything showing the training run, polling the job.

It polls only while a run is active (or the Ray cluster is being connected to), and writes into the
sidebar's status box and into the Train or Inside tab when one is open: one poll per interval for
the whole page, however much it shows.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ..config import TrainConfig
from ..jobs import TrainingJob
from . import inside_tab, sidebar, state, train_tab

# The charts must move at least once a second; every poll costs the browser and the server CPU that
# the training thread beside them needs (README, "Speed of the app").
POLL_S = 0.9
# The Inside tab has no curves to move, and each of its polls costs the browser about 0.4 CPU-seconds
# beside the training (README, "Inside views"): it follows the run less often.
INSIDE_POLL_S = 1.5


def render(
    job: TrainingJob,
    chosen: TrainConfig,
    status_box: DeltaGenerator,
    train_box: DeltaGenerator | None,
    polling: bool,
    inside_box: DeltaGenerator | None = None,
) -> None:
    """`status_box`: the sidebar's container for the status; `train_box`, `inside_box`: the Train and
    Inside tabs, None when closed."""
    every = poll_every(polling, inside_open=inside_box is not None)
    st.fragment(_live, run_every=every)(job, chosen, status_box, train_box, polling, inside_box)


def poll_every(polling: bool, inside_open: bool) -> float | None:
    """Seconds between the live view's reruns (None: it reruns only with the page)."""
    if not polling:
        return None
    return INSIDE_POLL_S if inside_open else POLL_S


def _live(
    job: TrainingJob,
    chosen: TrainConfig,
    status_box: DeltaGenerator,
    train_box: DeltaGenerator | None,
    polling: bool,
    inside_box: DeltaGenerator | None,
) -> None:
    job.heartbeat()
    snapshot = job.snapshot()
    with status_box:
        sidebar.show_status(snapshot, chosen)
    if train_box is not None:
        with train_box:
            train_tab.show(snapshot)
    if inside_box is not None:
        with inside_box:
            inside_tab.show(snapshot)
    if polling and not snapshot.active and not state.cluster_connecting():
        # The run just ended (or the cluster answered), as shown above at once; now redraw the whole
        # page (the buttons, the predictions in other tabs) and stop polling.
        st.rerun()
