from dataclasses import replace

import numpy as np
import pytest

from mnistdemo import wording
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import JobSnapshot, JobState
from mnistdemo.models import PRESETS
from mnistdemo.training import EpochResult
from mnistdemo.ui.sidebar import BATCH_SIZES, LEARNING_RATES

CONFIG = TrainConfig()
HISTORY = (EpochResult(1, 0.9, 80.0, 81.0, 0.5), EpochResult(2, 0.6, 88.5, 89.25, 1.1))
IDLE = JobSnapshot(JobState.IDLE, CONFIG)
RUNNING = JobSnapshot(
    JobState.RUNNING,
    CONFIG,
    history=HISTORY,
    batch_losses=np.array([(2.5, 0.5), (2.75, 0.3), (3.0, 0.4)]),
    epoch=3,
    batch=3,
    batches=4,
    run_epochs=5,
    run_epochs_done=2,
    eta_s=12.4,
)


def test_learning_rates_and_durations_read_naturally():
    assert wording.format_learning_rate(3e-4) == "3e-4"
    assert wording.format_learning_rate(1e-1) == "1e-1"
    assert wording.format_learning_rate(1e-5) == "1e-5"
    assert wording.format_duration(7.4) == "7 s"
    assert wording.format_duration(125) == "2 min 05 s"
    assert wording.format_duration(-1) == "0 s"


@pytest.mark.parametrize("model", PRESETS)
def test_sidebar_choices_hold_every_presets_settings(model):
    usual = TrainConfig.for_model(model)
    assert usual.batch_size in BATCH_SIZES and usual.lr in LEARNING_RATES


def test_sidebar_choices_are_valid_settings_in_order():
    assert [TrainConfig.check("batch_size", size) for size in BATCH_SIZES] == sorted(BATCH_SIZES)
    assert [TrainConfig.check("lr", rate) for rate in LEARNING_RATES] == sorted(LEARNING_RATES)


def test_model_status_says_untrained_or_epochs_and_accuracy():
    assert wording.model_status(IDLE) == "**seed** model, untrained"
    trained = replace(IDLE, state=JobState.FINISHED, history=HISTORY)
    assert wording.model_status(trained) == "**seed** model, trained 2 epochs, test accuracy **89.25 %**"


def test_epoch_mean_loss_averages_the_batches_of_that_epoch():
    losses = np.array([(0.5, 2.0), (1.0, 1.0), (1.5, 0.5), (2.0, 0.3)])
    assert wording.epoch_mean_loss(losses, 1) == pytest.approx(1.5)
    assert wording.epoch_mean_loss(losses, 2) == pytest.approx(0.4)
    assert wording.epoch_mean_loss(losses, 3) is None
    assert wording.epoch_mean_loss(np.empty((0, 2)), 1) is None


def test_progress_label_has_epoch_batch_loss_accuracy_and_eta():
    label = wording.progress_label(RUNNING)
    assert label == "Epoch 3 of 5 · batch 3 of 4 · mean loss 0.400 · train 88.50 %, test 89.25 % · about 12 s left"
    earlier = tuple(EpochResult(epoch, 0.5, 90.0, 90.0, epoch) for epoch in range(1, 31))
    continued = replace(RUNNING, history=earlier + HISTORY, epoch=33, run_epochs_done=2)
    assert wording.progress_label(continued).startswith("Epoch 3 of 5 (epoch 33 of this model) · batch 3 of 4")
    evaluating = replace(RUNNING, batch=4, run_epochs_done=3, history=(*HISTORY, HISTORY[-1]), epoch=3)
    assert wording.progress_label(evaluating).startswith("Epoch 3 of 5 · batch 4 of 4")  # not yet epoch 4
    assert "Waiting" in wording.progress_label(replace(RUNNING, state=JobState.WAITING))
    assert wording.progress_label(replace(RUNNING, batch=0, batches=0)) == "Starting…"


def test_epoch_metrics_show_the_last_epoch_and_its_change():
    metrics = wording.epoch_metrics(RUNNING)
    assert metrics == [
        ("Epochs trained", "2", None),
        ("Loss", "0.6000", "-0.3000"),
        ("Train accuracy", "88.50 %", "+8.50 %"),
        ("Test accuracy", "89.25 %", "+8.25 %"),
    ]
    assert [value for _, value, _ in wording.epoch_metrics(IDLE)] == ["0", "–", "–", "–"]


@pytest.mark.parametrize(
    "snapshot, kind, words",
    [
        (IDLE, "info", "press **Train**"),
        (replace(IDLE, state=JobState.WAITING), "warning", "at most 2 models at once"),
        (RUNNING, "info", "Training 5 epochs"),
        (
            replace(RUNNING, state=JobState.FINISHED, run_epochs_done=2),
            "success",
            "Training finished: 2 epochs in this run",
        ),
        (replace(RUNNING, state=JobState.STOPPED, message="stopped"), "info", "Stopped after 2 epochs"),
        (replace(IDLE, state=JobState.STOPPED, message="stopped before it started"), "info", "No epoch has finished"),
        (replace(IDLE, state=JobState.FAILED, message="training failed: boom"), "error", "boom"),
    ],
)
def test_run_notice_says_what_happened(snapshot, kind, words):
    notice = wording.run_notice(snapshot, training_slots=2)
    assert notice.kind == kind and words in notice.text


def test_finished_notice_gives_the_final_numbers():
    text = wording.run_notice(replace(RUNNING, state=JobState.FINISHED), 2).text
    assert "89.25 %" in text and "88.50 %" in text and "0.6000" in text


def test_pending_changes_list_what_differs_and_when_it_applies():
    chosen = replace(CONFIG, lr=1e-3, batch_size=64)
    assert wording.pending_changes(CONFIG, CONFIG) == []
    assert wording.pending_changes(CONFIG, chosen) == ["batch size 256 → 64", "learning rate 3e-4 → 1e-3"]
    assert wording.pending_notice(IDLE, CONFIG) is None
    running = wording.pending_notice(RUNNING, chosen)
    assert running.startswith("Changed settings apply to the next run (this one keeps its settings)")
    assert "new weights" not in running
    restart = wording.pending_notice(IDLE, replace(CONFIG, model="zoo", seed=3, augment=True))
    assert "model seed → zoo" in restart and "random seed 0 → 3" in restart and "augmentation off → on" in restart
    assert "start over from new weights" in restart


def test_predictions_caption_says_whose_guesses_these_are():
    assert "untrained" in wording.predictions_caption(IDLE)
    assert "as it trains" in wording.predictions_caption(RUNNING)
    assert "after 2 epochs" in wording.predictions_caption(replace(RUNNING, state=JobState.FINISHED))


def test_weights_caption_says_which_epochs_weights_the_page_shows():
    finished = replace(RUNNING, state=JobState.FINISHED)
    assert wording.weights_caption(finished, None) == wording.predictions_caption(finished)
    assert "untrained" in wording.weights_caption(finished, 0)
    early = wording.weights_caption(finished, 1)
    assert "after epoch 1 of 2" in early and "81.00 %" in early and "Slide to the end" in early
    assert "Slide" not in wording.weights_caption(finished, 2)
