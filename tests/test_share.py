"""A setup in a link: read back exactly as written, and every bad value falls back with a notice."""

from __future__ import annotations

import pytest

from mnistdemo.config import TrainConfig
from mnistdemo.share import link_params, read_link, tab_slug
from mnistdemo.ui.sidebar import BATCH_SIZES, LEARNING_RATES

TABS = ["Train", "Test digits", "Draw", "Data", "Models"]
OFFERED = {"batch_size": BATCH_SIZES, "lr": LEARNING_RATES}
ISSUE_LINK = {
    "model": "zoo",
    "epochs": "10",
    "batch_size": "64",
    "lr": "0.001",
    "seed": "0",
    "augment": "1",
    "tab": "draw",
}


def read(params: dict, base: TrainConfig = TrainConfig()):
    return read_link(params, base, OFFERED, TABS)


def test_the_issues_link_reads_as_it_says():
    linked = read(ISSUE_LINK)
    assert TrainConfig(**linked.settings) == TrainConfig("zoo", 10, 64, 1e-3, 0, True)
    assert (linked.tab, linked.present, linked.notices) == ("Draw", None, ())


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("present", [True, False])
def test_a_link_to_a_setup_opens_that_setup(tab, present):
    config = TrainConfig.for_model("cnn", epochs=7, batch_size=128, lr=2e-3, seed=12, augment=True)
    linked = read(link_params(config, tab, present))
    assert TrainConfig(**linked.settings) == config
    assert (linked.tab, bool(linked.present), linked.notices) == (tab, present, ())


def test_link_values_are_plain():
    params = link_params(TrainConfig("zoo", 10, 64, 1e-3, 0, True), "Test digits", present=False)
    assert params == {**ISSUE_LINK, "tab": "test"}
    assert link_params(TrainConfig(lr=1e-5), "Draw", present=True)["lr"] == "1e-05"
    assert link_params(TrainConfig(), "Draw", present=True)["present"] == "1"
    assert tab_slug("Test digits") == "test"


def test_another_model_brings_its_usual_settings_and_the_base_keeps_its_own():
    assert TrainConfig(**read({"model": "cnn"}).settings) == TrainConfig.for_model("cnn")
    started = TrainConfig.for_model("cnn", epochs=9, seed=4)  # the start model's settings
    assert TrainConfig(**read({}, started).settings) == started
    assert TrainConfig(**read({"model": "cnn", "lr": "0.01"}, started).settings) == TrainConfig.for_model(
        "cnn", epochs=9, seed=4, lr=1e-2
    )
    assert TrainConfig(**read({"model": "zoo"}, started).settings) == TrainConfig.for_model("zoo", seed=4)


# one bad parameter -> (what the notice says, the setting and the value used instead)
BAD = {
    "unknown model": ({"model": "resnet"}, "'resnet' is not one of seed, zoo, cnn, draw: using seed", "model", "seed"),
    "epochs too many": ({"epochs": "500"}, "epochs must be at most 100, got 500: using 30", "epochs", 30),
    "epochs zero": ({"epochs": "0"}, "epochs must be at least 1, got 0: using 30", "epochs", 30),
    "epochs text": ({"epochs": "ten"}, "epochs must be a whole number, got 'ten': using 30", "epochs", 30),
    "epochs fraction": ({"epochs": "2.5"}, "must be a whole number, got '2.5'", "epochs", 30),
    "lr zero": ({"lr": "0"}, "learning rate must be above 0, got 0: using 3e-4", "lr", 3e-4),
    "lr nan": ({"lr": "nan"}, "learning rate must be a finite number", "lr", 3e-4),
    "lr huge": ({"lr": "1e9"}, "learning rate must be at most 10", "lr", 3e-4),
    "lr not offered": ({"lr": "0.0007"}, "learning rate 7e-4 is not offered here: using 5e-4", "lr", 5e-4),
    "batch not offered": ({"batch_size": "100"}, "batch size 100 is not offered here: using 128", "batch_size", 128),
    "batch too large": ({"batch_size": "99999"}, "batch size must be at most 60000", "batch_size", 256),
    "seed negative": ({"seed": "-1"}, "random seed must be at least 0, got -1: using 0", "seed", 0),
    "augment word": ({"augment": "maybe"}, "augmentation must be 1 or 0, got 'maybe'", "augment", False),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_value_falls_back_with_a_notice(name):
    params, notice, setting, used = BAD[name]
    linked = read({**params, "tab": "draw"})
    (only,) = linked.notices
    assert notice in only
    assert linked.settings[setting] == used
    assert linked.tab == "Draw"  # the rest of the link still counts


def test_bad_tab_present_and_unknown_parameters_are_said():
    linked = read({"tab": "nowhere", "present": "yes please", "colour": "red", "augment": "on"})
    assert linked.notices == (
        "there is no tab 'nowhere' (choose train, test, draw, data, models)",
        "present must be 1 or 0, got 'yes please'",
        "'colour' is not a setting here: ignored",
    )
    assert (linked.tab, linked.present, linked.settings["augment"]) == (None, None, True)
