"""What the page keeps between reruns.

Per server process (`st.cache_resource`, shared read-only by every browser session): the MNIST data
and the semaphore that limits how many models train at once. Per browser session
(`st.session_state`): the TrainingJob (model, optimizer, history, its thread) and the cached test
predictions, so that two sessions never see each other's model.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from ..config import TrainConfig
from ..data import MnistData, load_mnist, resolve_data_dir
from ..gallery import PredictionCache
from ..jobs import TrainingJob
from . import startup

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


def set_settings(config: TrainConfig) -> None:
    """Put `config` in the sidebar (from a callback, or before the sidebar is drawn)."""
    for name in TrainConfig.names():
        st.session_state[name] = getattr(config, name)


def apply_model_defaults() -> None:
    """Set the sidebar to the chosen model's usual settings; the random seed stays the user's."""
    set_settings(TrainConfig.for_model(st.session_state.model, seed=st.session_state.seed))


def job(mnist: MnistData) -> TrainingJob:
    """This session's training job, created on first use with the sidebar's settings and the start
    model (`startup.start_model`), when there is one."""
    if "job" not in st.session_state:
        new = TrainingJob(mnist, chosen_config(), slots=training_slots())
        start = startup.start_model()
        if start.checkpoint is not None:
            new.load(start.checkpoint, start.label)
        st.session_state.job = new
    return st.session_state.job


def test_probabilities(mnist: MnistData, version: int, digits: np.ndarray) -> np.ndarray:
    """This session's model's probabilities for some test digits, cached per weights version."""
    if "test_predictions" not in st.session_state:
        st.session_state.test_predictions = PredictionCache(job(mnist).predict_proba, mnist.test_images.numpy())
    return st.session_state.test_predictions.get(version, digits)


def presenting() -> bool:
    """Whether this session is in presentation mode (the sidebar's switch, or ?present=1)."""
    return bool(st.session_state.get("present", False))
