"""The presenter's page (`/`): a sidebar with the settings and the controls, and one tab per
activity, the room's among them."""

from __future__ import annotations

import streamlit as st

from ..data import DataError
from . import (
    data_tab,
    draw_tab,
    link,
    live,
    lr_finder_view,
    models_tab,
    room_view,
    runs_view,
    sidebar,
    startup,
    state,
    style,
    test_tab,
)

TABS = ["Train", "Inside", "Test digits", "Draw", "Data", "Models", "Room"]


def render() -> None:
    st.set_page_config(page_title="mnistdemo: watch a network learn digits", page_icon="✍️", layout="wide")

    try:
        mnist = state.data()
    except DataError as error:
        st.title("mnistdemo")
        st.error(f"The MNIST data set cannot be loaded. {error}")
        st.stop()

    link.begin(TABS)  # a session's first run: the start model's settings, then the link's
    style.apply(state.presenting())

    with st.sidebar:
        st.title("mnistdemo")
        chosen = sidebar.settings()
        job = state.job(mnist)
        snapshot = job.snapshot()
        sidebar.controls(job, snapshot)
        status_box = st.container()
        sidebar.presentation_switch()

    start_problem = startup.start_model().problem
    if start_problem:
        st.error(f"The model to start with could not be loaded: {start_problem}. Sessions start untrained.")
    link.show_notices()

    # Only the open tab runs, so a rerun costs what that tab shows.
    train, inside, test, draw, data, models, room = st.tabs(TABS, key="tab", on_change="rerun")
    live.render(
        job,
        chosen,
        status_box,
        train.container() if train.open else None,
        polling=snapshot.active or state.cluster_connecting(),
        inside_box=inside if inside.open else None,
    )
    if train.open:
        with train:
            runs_view.render(job)
            lr_finder_view.render(job, snapshot, chosen, mnist)
    if test.open:
        with test:
            test_tab.render(mnist, snapshot)
    if draw.open:
        with draw:
            draw_tab.render(job)
    if data.open:
        with data:
            data_tab.render(mnist)
    if models.open:
        with models:
            models_tab.render(job, snapshot)
    if room.open:
        with room:
            room_view.render(job, snapshot, mnist)
    link.follow(chosen, st.session_state.tab)
