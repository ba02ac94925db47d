"""The presenter's page (`/`): a sidebar with the settings and the controls, and one tab per
activity, the room's among them."""

from __future__ import annotations

import streamlit as st

from ..data import DataError
from . import data_tab, draw_tab, live, room_view, sidebar, state, style, test_tab

TABS = ["Train", "Inside", "Test digits", "Draw", "Data", "Room"]


def render() -> None:
    st.set_page_config(page_title="mnistdemo: watch a network learn digits", page_icon="✍️", layout="wide")
    style.apply()

    try:
        mnist = state.data()
    except DataError as error:
        st.title("mnistdemo")
        st.error(f"The MNIST data set cannot be loaded. {error}")
        st.stop()

    with st.sidebar:
        st.title("mnistdemo")
        chosen = sidebar.settings()
        job = state.job(mnist)
        snapshot = job.snapshot()
        sidebar.controls(job, snapshot)
        status_box = st.container()

    # Only the open tab runs, so a rerun costs what that tab shows.
    train, inside, test, draw, data, room = st.tabs(TABS, key="tab", on_change="rerun")
    live.render(
        job,
        chosen,
        status_box,
        train if train.open else None,
        polling=snapshot.active or state.cluster_connecting(),
        inside_box=inside if inside.open else None,
    )
    if test.open:
        with test:
            test_tab.render(mnist, snapshot)
    if draw.open:
        with draw:
            draw_tab.render(job)
    if data.open:
        with data:
            data_tab.render(mnist)
    if room.open:
        with room:
            room_view.render(job, snapshot, mnist)
