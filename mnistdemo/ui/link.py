"""The page's address holds its setup (`mnistdemo.share`): a session starts with the start model's
settings and then the link's, and the address follows every change, so that a copied link opens
the same setup. Notices say what a link asked for that could not be used."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from .. import share
from ..config import TrainConfig
from . import startup, state
from .sidebar import BATCH_SIZES, LEARNING_RATES

OFFERED = {"batch_size": BATCH_SIZES, "lr": LEARNING_RATES}


def begin(tabs: Sequence[str]) -> None:
    """On a session's first run: the settings of the start model (else the notebook's), then those the
    link asks for, the tab it opens and presentation mode."""
    if "link_notices" in st.session_state:
        return
    start = startup.start_model().checkpoint
    linked = share.read_link(st.query_params.to_dict(), start.config if start else TrainConfig(), OFFERED, tabs)
    state.set_settings(TrainConfig(**linked.settings))
    if linked.tab:
        st.session_state.tab = linked.tab
    st.session_state.present = bool(linked.present)
    st.session_state.link_notices = linked.notices


def _dismiss() -> None:
    st.session_state.link_notices = ()


def show_notices() -> None:
    notices = st.session_state.get("link_notices", ())
    if not notices:
        return
    with st.container(border=True):
        st.warning("This link's setup was changed:\n" + "\n".join(f"- {notice}" for notice in notices))
        st.button("OK", key="dismiss_link_notices", on_click=_dismiss)


def follow(chosen: TrainConfig, tab: str) -> None:
    """Make the address say this setup (only when it says something else: each change is a message)."""
    wanted = share.link_params(chosen, tab, state.presenting())
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
