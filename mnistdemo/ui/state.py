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

from ..data import MnistData, load_mnist, resolve_data_dir
from ..gallery import PredictionCache
from ..jobs import TrainingJob, favour_training_threads
from ..training import TrainConfig, default_device, use_one_cpu_thread

MAX_CONCURRENT_RUNS = 2  # a 2-core machine trains two models at about full speed each

# The sidebar's settings: TrainConfig's fields, each kept in session state under its own name.
SETTINGS = ("model", "epochs", "batch_size", "lr", "seed", "augment")


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
    """The settings in the sidebar now (what the next run will use)."""
    return TrainConfig(**{field: st.session_state[field] for field in SETTINGS})


def apply_model_defaults() -> None:
    """Set the sidebar to the chosen model's usual settings: the CNN, say, learns far more per epoch
    than the notebook's network, so its preset trains fewer epochs with a larger step."""
    preset = TrainConfig.for_model(st.session_state.model)
    for field in ("epochs", "batch_size", "lr", "augment"):
        st.session_state[field] = getattr(preset, field)


def job(mnist: MnistData) -> TrainingJob:
    """This session's training job, created on first use with the sidebar's settings."""
    if "job" not in st.session_state:
        use_one_cpu_thread(default_device())
        favour_training_threads()
        st.session_state.job = TrainingJob(mnist, chosen_config(), slots=training_slots())
    return st.session_state.job


def test_probabilities(mnist: MnistData, version: int, digits: np.ndarray) -> np.ndarray:
    """This session's model's probabilities for some test digits, cached per weights version."""
    if "test_predictions" not in st.session_state:
        st.session_state.test_predictions = PredictionCache(job(mnist).predict_proba, mnist.test_images.numpy())
    return st.session_state.test_predictions.get(version, digits)
