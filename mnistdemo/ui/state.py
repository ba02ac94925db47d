"""What the page keeps between reruns.

Per server process (`st.cache_resource`, shared read-only by every browser session): the MNIST data,
where runs train (the training process and the semaphore that limits how many models train at once
there, or the Ray cluster at $MNISTDEMO_RAY_ADDRESS), and the room (its shared model and its
drawings). Per browser session (`st.session_state`): the TrainingJob (model, optimizer, history,
its thread), so that two sessions never see each other's model (`replay` keeps the session's
predictions on the test digits), and a visitor's random token.
"""

from __future__ import annotations

import os
import secrets
import threading

import streamlit as st
from torch import nn

from ..cluster import ADDRESS_ENV, ClusterState, ClusterStatus, ProcessRunner, RayCluster, RayRunner, TrainingProcess
from ..config import TrainConfig
from ..data import MnistData, load_mnist, resolve_data_dir
from ..jobs import Runner, TrainingJob
from ..room import Room, may_present, resolve_db_path
from ..training import evaluate
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


def runner() -> Runner:
    """Where this server's runs train: its training process (started in the background; the job's
    thread meanwhile), or the Ray cluster at $MNISTDEMO_RAY_ADDRESS, connected to in the background
    (here meanwhile, and when it cannot be reached)."""
    return _runner(str(resolve_data_dir()))


def _close(chosen: Runner) -> None:
    """A runner dropped from the cache (a test's) ends its child processes."""
    if isinstance(chosen, RayRunner):
        chosen.cluster.close()
        chosen = chosen.fallback
    if isinstance(chosen, ProcessRunner):
        chosen.process.close()


@st.cache_resource(show_spinner=False, on_release=_close)
def _runner(data_dir: str) -> Runner:
    # one per data set: the training process holds a copy of it
    here = ProcessRunner(TrainingProcess(data()), training_slots())
    address = os.environ.get(ADDRESS_ENV, "").strip()
    return RayRunner(RayCluster(address, data()), fallback=here) if address else here


def cluster_status() -> ClusterStatus | None:
    """The Ray cluster's state, or None when runs train on this server only."""
    chosen = runner()
    return chosen.cluster.status() if isinstance(chosen, RayRunner) else None


def cluster_connecting() -> bool:
    status = cluster_status()
    return status is not None and status.state == ClusterState.CONNECTING


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
        new = TrainingJob(mnist, chosen_config(), runner=runner())
        start = startup.start_model()
        if start.checkpoint is not None:
            new.load(start.checkpoint, start.label)
        st.session_state.job = new
    _stopped_with_the_session(st.session_state.job)
    return st.session_state.job


# Streamlit releases a session's resources as soon as its page disconnects: the job then stops its
# run, or its wait for a slot, unless the page comes back within seconds (jobs.CLOSED_PAGE_GRACE_S).
# A page that comes back reruns its script with the cache emptied, so this runs again and says so.
@st.cache_resource(scope="session", on_release=TrainingJob.page_closed, show_spinner=False)
def _stopped_with_the_session(_job: TrainingJob) -> TrainingJob:
    _job.page_opened()
    return _job


def presenting() -> bool:
    """Whether this session is in presentation mode (the sidebar's switch, or ?present=1)."""
    return bool(st.session_state.get("present", False))


@st.cache_resource(show_spinner=False)
def _open_room(db_path: str) -> Room:
    return Room(db_path)


def room() -> Room:
    """The room of this server (its database as configured); raises StoreError when the database
    cannot be used. Failures are not cached: fixing the file and reloading the page is enough."""
    return _open_room(str(resolve_db_path()))


def visitor() -> str:
    """This browser session's random token: it marks the drawings it sent, and is never shown."""
    return st.session_state.setdefault("visitor", secrets.token_hex(16))


def is_presenter() -> bool:
    """Whether this browser may share a model with the room and see everyone's drawings.

    A room key in the address is kept for the session: the address then follows the setup without it,
    so that a link copied from it to share a setup does not carry the key."""
    if "room_key" in st.query_params:
        st.session_state.room_key = st.query_params["room_key"]
    return may_present(st.context.ip_address, st.session_state.get("room_key"))


@st.cache_resource(max_entries=8, show_spinner="Scoring the room's model on the 10,000 test digits…")
def test_accuracy(weights_id: str, _model: nn.Module, _mnist: MnistData) -> float:
    """The MNIST test accuracy of a shared model, computed once per weights."""
    return evaluate(_model, _mnist.test_images, _mnist.test_labels)[1]
