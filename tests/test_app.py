"""The page's controls through Streamlit's AppTest, on the real MNIST: train from the sidebar and
read the numbers back, keep the run through slider changes, Stop / Train / Reset, the training
slots, the test digit grid, the Draw tab (the canvas fed through session state) and missing data.

AppTest runs app.py in this process, like a browser session that only moves when `at.run()` is
called; training still runs in the job's own thread meanwhile.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import logging
import threading
import time

import numpy as np
import pytest
import torch
from apptest_helpers import APP, RUN_TIMEOUT_S, page_sessions, texts, wait_for
from PIL import Image
from streamlit import logger as streamlit_logger
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from harness.drawings import png_data_url
from mnistdemo import training
from mnistdemo.cluster import ClusterState
from mnistdemo.config import TrainConfig
from mnistdemo.inference import predict_proba
from mnistdemo.jobs import JobState, LocalRunner
from mnistdemo.replay import rebuild
from mnistdemo.ui.inside_tab import MATRIX_REDRAW_S, matrix_version
from mnistdemo.ui.live import INSIDE_POLL_S, POLL_S, poll_every
from mnistdemo.ui.state import MAX_CONCURRENT_RUNS, training_slots

FAST = {"model": "zoo", "epochs": 2, "batch_size": 1024, "lr": 1e-2}  # about 90 % test accuracy in seconds


@pytest.fixture
def open_app(mnist_data_dir, monkeypatch):
    """Opens the page as a new browser session would (`apptest_helpers.page_sessions`)."""
    monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(mnist_data_dir))
    with page_sessions() as open_app:
        yield open_app


def choose(at: AppTest, model: str, epochs: int, batch_size: int, lr: float) -> AppTest:
    at.radio(key="model").set_value(model).run()  # first: a model brings its own defaults
    at.slider(key="epochs").set_value(epochs)
    at.select_slider(key="batch_size").set_value(batch_size)
    at.select_slider(key="lr").set_value(lr)
    return at.run()


def training_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "mnistdemo-training"]


def metric(at: AppTest, label: str) -> str:
    (found,) = [m for m in at.metric if m.label == label]
    return found.value


@contextlib.contextmanager
def streamlit_log_warnings(monkeypatch):
    """Every warning Streamlit's loggers write meanwhile (they do not propagate to the root logger);
    its warnings shown once per process are re-armed first."""
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    loggers = list(streamlit_logger._loggers.values())
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def canvas_state(pixels: np.ndarray) -> dict:
    """What the canvas component keeps in session state after a stroke: its drawing as a PNG data URL."""
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    return {"drawing": {"raw": {"objects": []}, "data": url}}


def canvas(fill: tuple[slice, slice] | None = None) -> np.ndarray:
    """A 280 x 280 opaque black canvas, white where `fill` says."""
    pixels = np.zeros((280, 280, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    if fill is not None:
        pixels[fill[0], fill[1], :3] = 255
    return pixels


def test_page_opens_untrained_with_the_notebook_defaults(open_app):
    at = open_app()
    assert [tab.label for tab in at.tabs] == ["Train", "Inside", "Test digits", "Draw", "Data", "Models", "Room"]
    assert at.radio(key="model").value == "seed"
    assert at.slider(key="epochs").value == 30
    assert at.select_slider(key="batch_size").value == 256
    assert at.select_slider(key="lr").value == 3e-4
    assert at.number_input(key="seed").value == 0
    assert not at.button(key="train").disabled and at.button(key="stop").disabled
    assert texts(at.sidebar.markdown)[0] == "**seed** model, untrained"
    assert "Untrained: press **Train**" in texts(at.info)[0]
    assert metric(at, "Epochs trained") == "0"
    assert len(at.get("plotly_chart")) == 2  # loss and accuracy, empty for now


def test_train_from_the_sidebar_and_read_back_the_numbers(open_app):
    at = choose(open_app(), **FAST)
    assert "model seed → zoo" in texts(at.sidebar.warning)[0]  # the next run will use the new settings
    other = open_app()  # a second browser session

    at.button(key="train").click().run()
    job = at.session_state["job"]
    assert job.snapshot().active and at.button(key="train").disabled and not at.button(key="stop").disabled
    wait_for(at, lambda snapshot: not snapshot.active)

    snapshot = job.snapshot()
    assert snapshot.state == JobState.FINISHED and snapshot.epochs_done == 2
    last = snapshot.history[-1]
    assert last.test_acc > 85
    assert metric(at, "Epochs trained") == "2"
    assert metric(at, "Test accuracy") == f"{last.test_acc:.2f} %"
    assert metric(at, "Train accuracy") == f"{last.train_acc:.2f} %"
    (finished,) = texts(at.success)
    assert finished.startswith("Training finished: 2 epochs in this run") and f"{last.test_acc:.2f} %" in finished
    assert texts(at.sidebar.markdown)[0] == f"**zoo** model, trained 2 epochs, test accuracy **{last.test_acc:.2f} %**"
    assert not at.sidebar.warning  # the settings are the model's now
    loss, accuracy = at.get("plotly_chart")[:2]  # the live charts come first, then the runs compared
    assert loss.proto.spec and accuracy.proto.spec

    other.run()  # the other session never saw this model
    assert other.session_state["job"] is not job
    assert texts(other.sidebar.markdown)[0] == "**seed** model, untrained"


def test_moving_sliders_mid_run_keeps_the_run_then_stop_train_and_reset(open_app):
    at = open_app()  # the notebook's 30 epochs: long enough to play with
    at.button(key="train").click().run()
    job = at.session_state["job"]
    wait_for(at, lambda snapshot: snapshot.state == JobState.RUNNING and snapshot.batch > 0)
    (thread,) = training_threads()

    at.radio(key="model").set_value("zoo").run()
    at.slider(key="epochs").set_value(5).run()
    at.select_slider(key="lr").set_value(1e-3).run()
    at.session_state["tab"] = "Test digits"
    at.run()
    at.session_state["tab"] = "Train"
    at.run()
    assert at.session_state["job"] is job and training_threads() == [thread]
    snapshot = job.snapshot()
    assert snapshot.state == JobState.RUNNING and snapshot.config.lr == 3e-4 and snapshot.run_epochs == 30
    (pending,) = texts(at.sidebar.warning)
    assert pending.startswith("Changed settings apply to the next run (this one keeps its settings)")
    assert " in all, " in texts(at.info)[0]  # how long the run will take, from its first batches
    assert "learning rate 3e-4 → 1e-3" in pending and "start over from new weights" in pending
    assert at.get("progress"), "a running job shows its progress"

    at.radio(key="model").set_value("seed").run()  # back to the model under way: Train continues it
    assert at.slider(key="epochs").value == 30 and at.select_slider(key="lr").value == 3e-4  # its defaults
    at.slider(key="epochs").set_value(5).run()
    at.select_slider(key="lr").set_value(1e-3).run()
    at.button(key="stop").click().run()
    wait_for(at, lambda snapshot: not snapshot.active, timeout_s=30)
    stopped = job.snapshot()
    assert stopped.state == JobState.STOPPED and stopped.run_epochs_done < 30
    thread.join(timeout=10)  # the thread ends right after saying it stopped
    assert not thread.is_alive()
    assert "**Train** continues from here" in texts(at.info)[0]

    at.button(key="train").click().run()  # 5 more epochs, from where it stopped
    wait_for(at, lambda snapshot: not snapshot.active)
    resumed = job.snapshot()
    assert resumed.state == JobState.FINISHED and resumed.config.lr == 1e-3
    assert resumed.epochs_done == stopped.epochs_done + 5 and resumed.history[: stopped.epochs_done] == stopped.history

    at.button(key="reset").click().run()
    assert job.snapshot().history == () and texts(at.sidebar.markdown)[0] == "**seed** model, untrained"


def test_runs_beyond_the_server_limit_wait_visibly_and_can_be_stopped(open_app):
    sessions = [open_app() for _ in range(MAX_CONCURRENT_RUNS + 1)]
    for at in sessions:
        at.button(key="train").click().run()
    waiting = sessions[-1]
    assert waiting.session_state["job"].snapshot().state == JobState.WAITING
    assert "Waiting for a free training slot" in texts(waiting.warning)[0]
    assert len(training_threads()) == MAX_CONCURRENT_RUNS + 1  # the last one only waits

    waiting.button(key="stop").click().run()
    wait_for(waiting, lambda snapshot: not snapshot.active, timeout_s=10)
    assert waiting.session_state["job"].snapshot().message == "stopped before it started"
    assert all(at.session_state["job"].snapshot().state == JobState.RUNNING for at in sessions[:-1])


def test_browse_the_test_digits(open_app):
    at = open_app(tab="Test digits")
    assert texts(at.subheader) == ["Test digit #33", "Why this answer?"]  # the notebook's digit, at first
    assert metric(at, "True label") == "3"
    assert "untrained model" in texts(at.caption)[0]
    probabilities, steadiness = at.get("plotly_chart")
    assert '"type":"bar"' in probabilities.proto.spec.replace(" ", "") and steadiness.key == "steadiness_test_32"
    tiles = [button for button in at.button if button.key and button.key.startswith("tile_")]
    assert len(tiles) == 20 and tiles[0].label.startswith("7 → ")  # test digit #1 is a 7
    (pages,) = at.pagination
    assert pages.num_pages == 500

    tiles[0].click().run()
    assert texts(at.subheader)[0] == "Test digit #1" and metric(at, "True label") == "7"

    at.pagination[0].select(500).run()
    tiles = [button for button in at.button if button.key and button.key.startswith("tile_")]
    assert "#10000:" in tiles[-1].help

    at.number_input(key="test_digit").set_value(33).run()  # the grid turns to the page showing #33
    assert at.pagination[0].value == 2 and texts(at.subheader)[0] == "Test digit #33"

    at.session_state["tab"] = "Train"  # away and back: the selection and the page stay
    at.run()
    at.session_state["tab"] = "Test digits"
    at.run()
    assert at.pagination[0].value == 2 and texts(at.subheader)[0] == "Test digit #33"

    at.toggle(key="mistakes_only").set_value(True).run()  # the untrained model gets most wrong
    assert not at.exception
    tiles = [button for button in at.button if button.key and button.key.startswith("tile_")]
    assert tiles and all(tile.label.endswith("✗") for tile in tiles)
    assert at.pagination[0].num_pages < 500


def test_turning_the_grid_to_the_selection_logs_no_warning(open_app, monkeypatch):
    """Streamlit logs a 25-line warning when a widget with a default is also set through Session
    State: the grid must turn to the selected digit's page without that."""
    at = open_app(tab="Test digits")
    with streamlit_log_warnings(monkeypatch) as warnings:
        at.number_input(key="test_digit").set_value(500).run()
        assert at.pagination[0].value == 25
        at.toggle(key="mistakes_only").set_value(True).run()
        at.pagination[0].select(2).run()
        at.toggle(key="mistakes_only").set_value(False).run()
        assert at.pagination[0].value == 25 and texts(at.subheader)[0] == "Test digit #500"
    assert not at.exception
    assert [record.getMessage() for record in warnings] == []


def test_choosing_a_model_brings_its_usual_settings(open_app):
    at = open_app()
    at.radio(key="model").set_value("cnn").run()
    cnn = TrainConfig.for_model("cnn")
    assert (at.slider(key="epochs").value, at.select_slider(key="lr").value) == (cnn.epochs, cnn.lr)
    at.number_input(key="seed").set_value(7).run()
    at.radio(key="model").set_value("seed").run()
    assert (at.slider(key="epochs").value, at.select_slider(key="lr").value) == (30, 3e-4)
    assert at.number_input(key="seed").value == 7  # the random seed is the user's, not the model's


def test_seed_model_explains_its_short_bars_and_offers_the_zoo_model(open_app):
    at = open_app(tab="Test digits")
    assert any("e/(e+9)" in caption for caption in texts(at.caption))
    at.button(key="use_uncapped_test_chart").click().run()
    assert at.radio(key="model").value == "zoo"
    assert "model seed → zoo" in texts(at.sidebar.warning)[0]


def test_data_tab_shows_a_training_digit_and_another(open_app):
    at = open_app(tab="Data")
    assert metric(at, "Label") == "5"  # training digit #1, the notebook's first look
    shown = {at.session_state["train_digit"]}
    for _ in range(3):
        at.button(key="another_digit").click().run()
        shown.add(at.session_state["train_digit"])
    assert len(shown) > 1 and not at.exception


def test_draw_tab_hints_on_an_empty_canvas_and_reads_a_stroke(open_app):
    at = open_app(tab="Draw")
    assert "empty" in texts(at.info)[0] and not at.get("plotly_chart")

    at.session_state["draw_canvas_0"] = canvas_state(canvas((slice(40, 240), slice(130, 150))))  # a 1
    at.run()
    assert not at.exception and not at.info
    guess = metric(at, "Top guess")
    assert guess in {str(digit) for digit in range(10)}
    (chart,) = at.get("plotly_chart")  # its probabilities; why only when asked
    assert '"type":"bar"' in chart.proto.spec.replace(" ", "") and len(at.get("image")) == 1
    assert not at.toggle(key="explain_drawing").value and "Why this answer?" not in texts(at.subheader)

    at.toggle(key="explain_drawing").set_value(True).run()
    chart, steadiness = at.get("plotly_chart")  # its probabilities, and why
    assert '"type":"bar"' in chart.proto.spec.replace(" ", "") and steadiness.key == "steadiness_draw"
    assert "Why this answer?" in texts(at.subheader) and at.selectbox(key="why_not_draw").value != int(guess)
    assert len(at.get("image")) == 1 + 2 + 1  # what the model sees, where it looks for two digits, its hidden units
    # pictures go out as PNG: Streamlit would re-encode them as JPEG, blurring every square pixel
    assert all(image.proto.imgs[0].url.endswith(".png") for image in at.get("image"))

    at.session_state["draw_canvas_0"] = canvas_state(canvas((slice(None), slice(None))))  # painted all over
    at.run()
    assert "not a digit" in texts(at.info)[0] and not at.get("plotly_chart")

    at.button(key="clear_canvas").click().run()  # a new, empty canvas
    assert "empty" in texts(at.info)[0]


def test_draw_tab_refuses_what_no_canvas_sends_with_a_message(open_app):
    at = open_app(tab="Draw")
    for data_url, why in [
        (png_data_url(2000, 2000), "an image of 2000 × 2000 pixels"),  # a bomb, in miniature
        (png_data_url(280, 280, bit_depth=16, grey=True), "a 16-bit image"),
        ("data:image/png;base64,!!!! not base64", "not base64"),
    ]:
        at.session_state["draw_canvas_0"] = {"drawing": {"raw": {"objects": []}, "data": data_url}}
        at.run()
        assert not at.exception
        (warning,) = texts(at.warning)
        assert warning.startswith("This drawing could not be read") and why in warning
        assert not at.get("plotly_chart") and not at.metric

    at.session_state["draw_canvas_0"] = canvas_state(canvas((slice(40, 240), slice(130, 150))))  # a real drawing
    at.run()
    assert not at.warning and metric(at, "Top guess")


def test_a_diverging_run_is_said_plainly_beside_the_charts(open_app):
    """A tiny model at a huge rate (the sidebar offers up to 0.1; the job, like the CLI, takes 10)."""
    at = open_app()
    at.session_state["job"].start(TrainConfig(model="zoo", lr=10.0, epochs=1))
    wait_for(at, lambda snapshot: not snapshot.active)

    finished, trouble = texts(at.main.warning)  # no "success": the run finished, but learned nothing
    assert finished.startswith("Training finished: 1 epoch in this run") and not at.success
    assert trouble.startswith("**The learning rate is too high (learning rate 1e1): after epoch 1 the loss is ")
    assert trouble.endswith(
        "try learning rate 3e-4.** Choose it in the sidebar, press **Reset** (these weights may be past saving), "
        "then **Train**."
    )


def test_a_run_learning_too_slowly_is_said_too(open_app):
    at = choose(open_app(), "seed", epochs=1, batch_size=4096, lr=1e-5)
    at.button(key="train").click().run()
    wait_for(at, lambda snapshot: not snapshot.active)

    (trouble,) = [text for text in texts(at.warning) if "too slowly" in text]
    assert trouble.startswith("**The model is learning too slowly (learning rate 1e-5, batch size 4096): after epoch 1")
    assert "try learning rate 3e-4, a smaller batch size or more epochs.**" in trouble


def nan_loss(loss: torch.Tensor) -> torch.Tensor:
    return loss * float("nan")


def runs_out_of_memory(loss: torch.Tensor) -> torch.Tensor:
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")


def test_the_pages_runs_train_in_the_servers_training_process(open_app, monkeypatch):
    at = choose(open_app(), **FAST)
    process = at.session_state["job"]._runner.process
    deadline = time.monotonic() + 120  # it imports torch and gets the data first
    while process.status().state == ClusterState.CONNECTING:
        assert time.monotonic() < deadline, "the training process did not start"
        time.sleep(0.1)
    assert process.status().state == ClusterState.CONNECTED, process.status()
    monkeypatch.setattr(training.Trainer, "run", lambda *args, **kwargs: pytest.fail("trained in the page's process"))

    at.button(key="train").click().run()
    wait_for(at, lambda snapshot: not snapshot.active)
    snapshot = at.session_state["job"].snapshot()
    assert snapshot.state == JobState.FINISHED and snapshot.epochs_done == 2 and snapshot.history[-1].test_acc > 85
    assert texts(at.success)[0].startswith("Training finished: 2 epochs in this run")


@pytest.mark.parametrize(
    "failure, said, trouble",
    [
        (
            nan_loss,
            "Training stopped: the loss became nan in epoch 1, batch 3; the weights are from before that batch.",
            "the loss became nan in epoch 1, batch 3; try learning rate 3e-4",
        ),
        (
            runs_out_of_memory,
            "Training stopped: out of memory training the zoo model with batch size 1024 on cpu: choose a smaller "
            "batch size. The weights from before that batch are kept.",
            None,
        ),
    ],
    ids=["nan loss", "out of memory"],
)
def test_a_run_that_cannot_go_on_stops_with_the_reason_in_the_page(open_app, monkeypatch, failure, said, trouble):
    """Simulated at the third batch: no setting the page offers makes the loss nan or fills the memory here.
    The simulation is in this process, so the run trains here, as it does while the training process starts."""
    monkeypatch.setattr("mnistdemo.ui.state.runner", lambda: LocalRunner(training_slots()))
    calls = itertools.count(1)
    real = training.crossentropy
    monkeypatch.setattr(
        training, "crossentropy", lambda *args: failure(real(*args)) if next(calls) == 3 else real(*args)
    )
    at = choose(open_app(), "zoo", epochs=1, batch_size=1024, lr=1e-2)
    at.button(key="train").click().run()
    wait_for(at, lambda snapshot: not snapshot.active)

    assert texts(at.error) == [said]
    troubles = [text for text in texts(at.warning) if "too high" in text]
    assert troubles == [] if trouble is None else trouble in troubles[0]
    assert not at.exception and at.session_state["job"].snapshot().state == JobState.FAILED
    monkeypatch.undo()
    at.button(key="train").click().run()  # Train goes on from the batch that failed
    wait_for(at, lambda snapshot: not snapshot.active)
    assert at.session_state["job"].snapshot().state == JobState.FINISHED


def test_missing_data_explains_what_to_do(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(tmp_path / "nothing-here"))
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S).run()
    assert not at.exception
    (error,) = texts(at.error)
    assert "MNIST" in error and "python -m mnistdemo data --from FOLDER" in error
    assert not at.sidebar.button  # nothing to train without data


def click_chart_point(at: AppTest, key: str, point_index: int) -> AppTest:
    """A click on one point of the plotly chart `key` (on_select): AppTest has no plotly selections, so
    the widget state a browser would send goes in by hand."""
    (chart,) = [element for element in at.get("plotly_chart") if element.key == key]
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    selection = {"points": [{"point_index": point_index}], "point_indices": [point_index], "box": [], "lasso": []}
    state.string_value = json.dumps({"selection": selection})
    at._run(states)
    assert not at.exception, at.exception
    return at


def shown_tiles(at: AppTest) -> list:
    return [button for button in at.button if button.key and button.key.startswith("tile_")]


def test_while_a_run_trains_the_matrix_moves_to_a_new_epoch_at_most_every_few_seconds():
    kept = {10, 20, 30}  # weights versions of kept epochs
    assert matrix_version(None, 30, kept, now=0.0) == 30  # nothing shown yet: the last finished epoch
    assert matrix_version((20, 100.0), 30, kept, now=100.0 + MATRIX_REDRAW_S / 2) == 20  # too soon: unchanged
    assert matrix_version((20, 100.0), 30, kept, now=100.0 + MATRIX_REDRAW_S) == 30
    assert matrix_version((5, 100.0), 30, kept, now=100.5) == 30  # the shown epoch is no longer kept


def test_the_live_view_follows_a_run_less_often_with_the_inside_tab_open():
    assert poll_every(polling=False, inside_open=True) is None  # nothing runs: no polling
    assert poll_every(polling=True, inside_open=False) == POLL_S <= 1.0  # the Train tab's curves: every second
    assert poll_every(polling=True, inside_open=True) == INSIDE_POLL_S > POLL_S


def test_inside_tab_a_confusion_cell_opens_exactly_those_digits_and_the_slider_replays(open_app, mnist_data):
    at = choose(open_app(tab="Inside"), **FAST)
    assert at.get("plotly_chart") and at.get("image")  # the untrained model's matrix and hidden units
    at.button(key="train").click().run()
    wait_for(at, lambda snapshot: not snapshot.active)
    job = at.session_state["job"]
    snapshot = job.snapshot()
    assert [weights.epoch for weights in snapshot.epoch_weights] == [0, 1, 2]
    assert at.select_slider(key="replay_epoch").value == 2  # the slider followed the run to its end

    labels = mnist_data.test_labels.numpy()
    guesses = predict_proba(snapshot.model, mnist_data.test_images.numpy()).argmax(axis=1)
    matrix = np.bincount(labels * 10 + guesses, minlength=100).reshape(10, 10)
    np.fill_diagonal(matrix, 0)
    true_label, guess = divmod(int(matrix.argmax()), 10)  # the most common mistake
    expected = np.flatnonzero((labels == true_label) & (guesses == guess))
    click_chart_point(at, "confusion_chart", true_label * 10 + guess)
    assert at.session_state["tab"] == "Test digits"
    assert (at.selectbox(key="filter_true").value, at.selectbox(key="filter_guess").value) == (true_label, guess)
    assert any(f"True {true_label} read as {guess}: {len(expected):,} digits" in text for text in texts(at.caption))
    tiles = shown_tiles(at)
    assert tiles and all(tile.label == f"{true_label} → {guess} ✗" for tile in tiles)
    numbers = [int(tile.help.split("#")[1].split(":")[0]) - 1 for tile in tiles]
    assert set(numbers) <= set(expected) and len(tiles) == min(20, len(expected))
    assert texts(at.subheader)[0] == f"Test digit #{numbers[0] + 1}"  # the surest of those mistakes, selected
    assert at.selectbox(key=f"why_not_test_{numbers[0]}").value == true_label  # "why not" the truth
    assert len(at.get("plotly_chart")) == 2  # its probabilities and how steady they are

    at.select_slider(key="replay_epoch").set_value(1).run()  # back to epoch 1
    assert "after epoch 1 of 2" in texts(at.caption)[0]
    epoch_one = rebuild("zoo", snapshot.epoch_weights[1])
    image = mnist_data.test_images[numbers[0]].numpy()[None]
    assert metric(at, "Model's guess") == str(int(predict_proba(epoch_one, image).argmax()))
    epoch_one_guesses = predict_proba(epoch_one, mnist_data.test_images.numpy()).argmax(axis=1)
    count = int(((labels == true_label) & (epoch_one_guesses == guess)).sum())
    assert any(f"read as {guess}: {count:,} digit" in text for text in texts(at.caption))

    at.session_state["tab"] = "Inside"
    at.run()
    (chart,) = [element for element in at.get("plotly_chart") if element.key == "confusion_chart"]
    spec = json.loads(chart.proto.spec)  # epoch 1's matrix, not one the page kept from before
    assert spec["layout"]["title"]["text"] == "Mistakes by class, after epoch 1"
    epoch_one_counts = np.bincount(labels * 10 + epoch_one_guesses, minlength=100)
    assert spec["data"][2]["text"] == [str(count) if count else "" for count in epoch_one_counts]
    click_chart_point(at, "confusion_chart", 3 * 10 + 3)  # the diagonal: the 3s that epoch 1 got right
    right = np.flatnonzero((labels == 3) & (epoch_one_guesses == 3))
    assert any(f"True 3 read as 3: {len(right):,} digits" in text for text in texts(at.caption))
    assert all(tile.label == "3 → 3" for tile in shown_tiles(at))
    at.button(key="show_all_digits").click().run()
    assert at.pagination[0].num_pages == 500 and at.session_state["replay_epoch"] == 1
