from dataclasses import replace

import numpy as np
import pytest

from mnistdemo import wording
from mnistdemo.cluster import ClusterState, ClusterStatus
from mnistdemo.config import TrainConfig
from mnistdemo.divergence import Trouble
from mnistdemo.jobs import JobSnapshot, JobState, Placement
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
TOO_HIGH = Trouble("after epoch 1 the model is no better than chance (9.74 % of the test digits)", True, 0.1, 1e-3)
TOO_SLOW = Trouble("after epoch 1 the model is no better than chance (7.21 % of the test digits)", False, 1e-5, 3e-4)


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
        (replace(IDLE, state=JobState.FAILED, message="training failed: boom"), "error", "Training failed: boom."),
        (replace(RUNNING, state=JobState.FINISHED, trouble=TOO_HIGH), "warning", "Training finished"),
    ],
)
def test_run_notice_says_what_happened(snapshot, kind, words):
    notice = wording.run_notice(snapshot, training_slots=2)
    assert notice.kind == kind and words in notice.text


def test_a_running_notice_says_how_long_the_run_will_take_once_batches_tell():
    assert wording.run_notice(replace(RUNNING, eta_s=None), 2).text == "Training 5 epochs… The charts move live."
    text = wording.run_notice(replace(RUNNING, run_elapsed_s=40.0, eta_s=150.0), 2).text
    assert text == "Training 5 epochs… About 3 min 10 s in all, 2 min 30 s left. The charts move live."


def test_trouble_says_which_way_the_learning_rate_is_wrong_and_what_to_try():
    assert wording.trouble_notice(RUNNING) is None
    high = wording.trouble_notice(replace(RUNNING, trouble=TOO_HIGH))
    assert high.startswith(
        "**The learning rate is too high (learning rate 1e-1): after epoch 1 the model is no better than chance "
        "(9.74 % of the test digits); try learning rate 1e-3.** Choose it in the sidebar, press **Reset**"
    )
    slow = wording.trouble_notice(replace(RUNNING, trouble=TOO_SLOW, config=replace(CONFIG, batch_size=4096)))
    assert slow.startswith(
        "**The model is learning too slowly (learning rate 1e-5, batch size 4096): after epoch 1 the model is no "
        "better than chance (7.21 % of the test digits); try learning rate 3e-4, a smaller batch size or more epochs.**"
    )
    on_the_command_line = wording.trouble_sentence(TOO_HIGH, 16, rate=lambda lr: f"--lr {lr:g}")
    assert on_the_command_line.startswith("the learning rate is too high (--lr 0.1)")
    assert on_the_command_line.endswith("try --lr 0.001")


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


ON_RAY = Placement(cluster="10.0.0.1:6379", node="node 3f9a1c (10.0.0.7), CPU")


def test_places_in_a_queue_read_as_ordinals():
    assert [wording.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"
    ]  # fmt: skip


def test_a_run_on_a_cluster_says_its_place_in_the_queue_then_its_node():
    waiting = JobSnapshot(JobState.WAITING, CONFIG, placement=Placement("10.0.0.1:6379", queue_place=2, queue_length=3))
    assert wording.progress_label(waiting) == "Waiting for room on the Ray cluster: 2nd of 3 in the queue…"
    notice = wording.run_notice(waiting, training_slots=2)
    assert notice.kind == "warning" and "your run is **2nd** of 3 in the queue" in notice.text
    assert "slot" not in notice.text  # the server's slots do not apply
    starting = replace(waiting, placement=Placement("10.0.0.1:6379"))
    assert "Starting" in wording.progress_label(starting) and "Starting" in wording.run_notice(starting, 2).text
    assert wording.progress_label(replace(waiting, placement=Placement())) == "Waiting for a free training slot…"

    running = replace(RUNNING, placement=ON_RAY)
    assert "Training 5 epochs on the Ray cluster (node 3f9a1c (10.0.0.7), CPU)" in wording.run_notice(running, 2).text
    finished = JobSnapshot(JobState.FINISHED, CONFIG, history=HISTORY, run_epochs_done=2, placement=ON_RAY)
    assert wording.run_notice(finished, 2).text.startswith("Training finished on the Ray cluster (node 3f9a1c")


@pytest.mark.parametrize(
    ("state", "detail", "kind", "words"),
    [
        (ClusterState.CONNECTING, "", "info", "Connecting to the Ray cluster at `auto`…"),
        (ClusterState.CONNECTED, "2 nodes, 2 CPUs, no GPU", "info", "Training runs on the Ray cluster at `auto` (2"),
        (ClusterState.UNREACHABLE, "no answer", "warning", "cannot be reached (no answer). Training runs on"),
        (ClusterState.LOST, "its Ray driver ended", "warning", "went away (its Ray driver ended). Training runs on"),
    ],
)  # fmt: skip
def test_the_sidebar_says_where_runs_train(state, detail, kind, words):
    notice = wording.cluster_notice(ClusterStatus("auto", state, detail))
    assert notice.kind == kind and words in notice.text
    assert wording.cluster_notice(None) is None  # no cluster asked for: nothing to say


def test_weights_caption_says_which_epochs_weights_the_page_shows():
    finished = replace(RUNNING, state=JobState.FINISHED)
    assert wording.weights_caption(finished, None) == wording.predictions_caption(finished)
    assert "untrained" in wording.weights_caption(finished, 0)
    early = wording.weights_caption(finished, 1)
    assert "after epoch 1 of 2" in early and "81.00 %" in early and "Slide to the end" in early
    assert "Slide" not in wording.weights_caption(finished, 2)
