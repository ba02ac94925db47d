"""Replay: the epoch slider that the Inside, Test digits and Draw tabs share, the weights it chooses,
and this session's predictions on the test digits for those weights.

The slider offers every kept epoch (0 is the untrained model) and, while the weights are not an
epoch's (a run under way, or stopped inside an epoch), "now". One at the end of the slider follows
the end as training adds epochs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st
from torch import nn

from .. import wording
from ..data import MnistData
from ..gallery import PredictionCache
from ..inference import predict_proba
from ..jobs import JobSnapshot
from ..replay import EpochWeights, rebuild

LIVE = -1  # the slider's "now"
KEY = "replay_epoch"
KEPT_MODELS = 4  # rebuilt epochs and prediction caches kept per session: the slider's last few positions


@dataclass(frozen=True)
class Weights:
    """The weights the page shows: a kept epoch's, or the newest."""

    model: nn.Module
    version: int  # the job's weights_version when these were its weights: the key of every cache
    epoch: int | None  # None for "now"


def _live_is_an_epoch(snapshot: JobSnapshot) -> bool:
    """Whether the newest weights are those of the last kept epoch: no run under way, and no epoch
    left half done (a stop between batches; a stop before an epoch's first batch leaves the last one's)."""
    return not snapshot.active and snapshot.batch == snapshot.batches


def options(snapshot: JobSnapshot) -> list[int]:
    epochs = [weights.epoch for weights in snapshot.epoch_weights]
    return epochs if _live_is_an_epoch(snapshot) else [*epochs, LIVE]


def _label(epoch: int) -> str:
    return "now" if epoch == LIVE else str(epoch)


def slider(snapshot: JobSnapshot) -> None:
    """The epoch slider, or nothing while there is only one choice (an untrained model)."""
    choices = options(snapshot)
    previous = st.session_state.get("replay_options")
    chosen = st.session_state.get(KEY)
    if chosen not in choices or not previous or chosen == previous[-1]:
        st.session_state[KEY] = choices[-1]  # the end of the slider follows the end
    st.session_state.replay_options = choices
    if len(choices) < 2:
        return
    st.select_slider(
        "Weights after epoch",
        choices,
        key=KEY,
        format_func=_label,
        persist_state="session",
        help="Scrub back through training: the Inside, Test digits and Draw tabs show the model as it was "
        "after that epoch (0: untrained, random weights).",
    )


def chosen(snapshot: JobSnapshot) -> Weights:
    """The weights the slider chooses (the newest before it has been shown)."""
    epoch = st.session_state.get(KEY, LIVE)
    kept = {weights.epoch: weights for weights in snapshot.epoch_weights}
    if epoch not in kept:
        return Weights(snapshot.model, snapshot.weights_version, None)
    return epoch_weights(snapshot, kept[epoch])


def epoch_weights(snapshot: JobSnapshot, weights: EpochWeights) -> Weights:
    """A kept epoch's weights as a model, rebuilt once per session and kept for the last few epochs asked for."""
    models = st.session_state.setdefault("replay_models", OrderedDict())
    if weights.version not in models:
        models[weights.version] = rebuild(snapshot.config.model, weights)
        while len(models) > KEPT_MODELS:
            models.popitem(last=False)
    models.move_to_end(weights.version)
    return Weights(models[weights.version], weights.version, weights.epoch)


def caption(snapshot: JobSnapshot, weights: Weights) -> str:
    return wording.weights_caption(snapshot, weights.epoch)


def test_probabilities(mnist: MnistData, weights: Weights, digits: np.ndarray) -> np.ndarray:
    """The probabilities (len(digits), 10) these weights give some test digits, each computed once."""
    caches = st.session_state.setdefault("test_predictions", OrderedDict())
    if weights.version not in caches:
        caches[weights.version] = PredictionCache(partial(predict_proba, weights.model), mnist.test_images.numpy())
        while len(caches) > KEPT_MODELS:
            caches.popitem(last=False)
    caches.move_to_end(weights.version)
    return caches[weights.version].get(weights.version, digits)


def all_test_probabilities(mnist: MnistData, weights: Weights) -> np.ndarray:
    return test_probabilities(mnist, weights, np.arange(len(mnist.test_labels)))
