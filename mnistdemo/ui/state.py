"""What the page keeps between reruns.

Per server process (`st.cache_resource`, shared read-only by every browser session): the MNIST data
and the semaphore that limits how many models train at once. Per browser session
(`st.session_state`): the TrainingJob (model, optimizer, history, its thread), so that two sessions
never see each other's model (`replay` keeps the session's predictions on the test digits).
"""

from __future__ import annotations

import threading

import streamlit as st

from ..config import TrainConfig
from ..data import MnistData, load_mnist, resolve_data_dir
from ..jobs import TrainingJob

MAX_CONCURRENT_RUNS = 2  # a 2-core machine trains two models at about full speed each


@st.cache_resource(show_spinner="Loading MNIST…")
def _load_data(data_dir: str) -> MnistData:
    return load_mnist(data_dir)


def data() -> MnistData:
    """The data set, loaded once per server process; raises DataError when it cannot be had.

    Failures are not cached, so the page recovers as soon as the data is imported."""
    return _load_data(str(resolve_data_dir()))


@st.cache_resource
def training_slots() -> threading.Semaphore:
    return threading.BoundedSemaphore(MAX_CONCURRENT_RUNS)


def chosen_config() -> TrainConfig:
    """The settings in the sidebar now (what the next run will use); each widget's key is the
    setting's name."""
    return TrainConfig(**{name: st.session_state[name] for name in TrainConfig.names()})


def apply_model_defaults() -> None:
    """Set the sidebar to the chosen model's usual settings; the random seed stays the user's."""
    usual = TrainConfig.for_model(st.session_state.model, seed=st.session_state.seed)
    for name in TrainConfig.names():
        st.session_state[name] = getattr(usual, name)


def job(mnist: MnistData) -> TrainingJob:
    """This session's training job, created on first use with the sidebar's settings."""
    if "job" not in st.session_state:
        st.session_state.job = TrainingJob(mnist, chosen_config(), slots=training_slots())
    return st.session_state.job
