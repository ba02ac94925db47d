"""Ready for a talk, through Streamlit's AppTest on the real MNIST: the model library (save, list,
load, Train continues; bad files change nothing), a start model named on the command line or marked
in the library, links that carry the setup, runs compared, the learning-rate finder, presentation mode.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from apptest_helpers import APP, page_sessions, texts, wait_for
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnistdemo import library
from mnistdemo.checkpoint import save_checkpoint
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import JobState
from mnistdemo.models import build_model
from mnistdemo.training import Trainer
from mnistdemo.ui.style import PRESENTATION_CSS

FAST = TrainConfig(model="zoo", epochs=1, batch_size=1024, lr=1e-2)  # about 90 % test accuracy in seconds
FAST_LINK = {"model": "zoo", "epochs": "1", "batch_size": "1024", "lr": "0.01"}


@pytest.fixture
def models_dir(tmp_path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def open_app(mnist_data_dir, models_dir, monkeypatch):
    """Opens the page as a new browser session would, at a link (`query`), the app started with
    `arguments` (as after `streamlit run app.py --`)."""
    monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(mnist_data_dir))
    monkeypatch.setenv(library.MODELS_DIR_ENV, str(models_dir))
    with page_sessions() as open_page:

        def open_app(query: dict[str, str] | None = None, arguments: tuple[str, ...] = ()) -> AppTest:
            monkeypatch.setattr(sys, "argv", [APP, *arguments])
            return open_page(query=query)

        yield open_app


@pytest.fixture(scope="module")
def trained_file(mnist_data, tmp_path_factory) -> Path:
    """A zoo model trained one quick epoch on the real data, saved as the CLI saves it."""
    trainer = Trainer(mnist_data, FAST, torch.device("cpu"))
    trainer.run()
    path = tmp_path_factory.mktemp("trained") / "zoo-quick.pt"
    save_checkpoint(path, trainer.model, trainer.config, trainer.history, "zoo-quick", trainer.training_state())
    return path


def train(at: AppTest) -> AppTest:
    at.button(key="train").click().run()
    return wait_for(at, lambda snapshot: not snapshot.active)


def sidebar_config(at: AppTest) -> TrainConfig:
    return TrainConfig(
        at.radio(key="model").value,
        at.slider(key="epochs").value,
        at.select_slider(key="batch_size").value,
        at.select_slider(key="lr").value,
        at.number_input(key="seed").value,
        at.toggle(key="augment").value,
    )


def trace_names(chart) -> list[str]:
    return [trace["name"] for trace in json.loads(chart.proto.spec)["data"]]


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["tab"] = label
    return at.run()


def test_save_list_load_and_train_continues_then_compare_the_runs(open_app, models_dir, mnist_data):
    at = open_app({**FAST_LINK, "tab": "models"})
    assert "No models saved" in texts(at.info)[0]
    train(at)
    job = at.session_state["job"]
    trained = job.snapshot()
    images = mnist_data.test_images[:200].numpy()
    predictions = job.predict_proba(images)

    at.text_input(key="save_name").input("talk zoo").run()
    at.button(key="save_model").click().run()
    assert texts(at.success) == [f"Saved as **talk zoo** in {models_dir}."]
    assert (models_dir / "talk zoo.pt").is_file()
    (table,) = at.dataframe
    row = table.value.iloc[0]
    assert (row["name"], row["model"], row["epochs"], row["test acc (%)"]) == (
        "talk zoo",
        "zoo",
        1,
        trained.history[-1].test_acc,
    )
    assert not at.download_button(key="download_model").disabled

    at.button(key="reset").click().run()
    at.radio(key="model").set_value("cnn").run()  # the sidebar elsewhere; loading brings the model's back
    assert job.snapshot().history == ()
    at.selectbox(key="library_choice").set_value("talk zoo")
    at.button(key="load_model").click().run()
    assert texts(at.success)[0].startswith("Loaded talk zoo: weights, settings and history")
    loaded = job.snapshot()
    assert (loaded.state, loaded.history, loaded.config) == (JobState.LOADED, trained.history, trained.config)
    assert sidebar_config(at) == trained.config
    np.testing.assert_array_equal(job.predict_proba(images), predictions)

    at.select_slider(key="lr").set_value(5e-3).run()  # a second run that differs in one setting
    train(at)
    assert [r.epoch for r in job.snapshot().history] == [1, 2]
    assert job.snapshot().history[0] == trained.history[0]

    open_tab(at, "Train")
    (pills,) = at.pills
    assert pills.options == ["run 1", "run 2"] and pills.value == [1, 2]  # each run that ends joins the overlay
    runs_loss, runs_accuracy = at.get("plotly_chart")[2:4]
    assert trace_names(runs_loss) == trace_names(runs_accuracy) == ["lr 1e-2", "lr 5e-3"]
    runs_table = at.dataframe[0].value
    assert list(runs_table["run"]) == [1, 2] and list(runs_table["epochs"]) == ["1", "2"]
    assert list(runs_table["learning rate"]) == ["1e-2", "5e-3"]
    pills.set_value([2]).run()
    _, runs_accuracy = at.get("plotly_chart")[2:4]
    assert trace_names(runs_accuracy) == ["run 2"]  # one run: no setting differs


def checkpoint_bytes(model: str = "zoo") -> bytes:
    buffer = io.BytesIO()
    save_checkpoint(buffer, build_model(model, torch.Generator().manual_seed(1)), TrainConfig.for_model(model), [])
    return buffer.getvalue()


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_bad_files_and_names_change_nothing(open_app, models_dir, tmp_path, mnist_data):
    at = open_app({"tab": "models"})
    at.file_uploader(key="upload_model").upload("start.pt", checkpoint_bytes("cnn")).run()
    assert texts(at.success)[0].startswith("Loaded start.pt")
    job = at.session_state["job"]
    before, settings = job.snapshot(), sidebar_config(at)
    images = mnist_data.test_images[:50].numpy()
    predictions = job.predict_proba(images)
    marker = tmp_path / "code-ran"
    other_shapes = torch.load(io.BytesIO(checkpoint_bytes("zoo")), weights_only=True)
    other_shapes["config"]["model"] = "cnn"  # a zoo's weights, saved as a cnn
    too_large = checkpoint_bytes("zoo") + b"\0" * (8 * 2**20)  # past .streamlit/config.toml's server.maxUploadSize
    buffer = io.BytesIO()
    torch.save(other_shapes, buffer)
    bad = {
        "corrupt.pt": (b"\x80\x02 not a checkpoint", "is not a readable checkpoint"),
        "code.pt": (pickle.dumps(RunsCode(marker), protocol=2), "is not a readable checkpoint"),
        "mislabelled.pt": (buffer.getvalue(), "holds another network than the cnn model it names"),
        "huge.pt": (too_large, "checkpoints above 5.0 MB are refused"),
    }
    for name, (content, message) in bad.items():
        at.file_uploader(key="upload_model").set_value((name, content, "application/octet-stream")).run()
        (error,) = texts(at.error)
        assert message in error and "The current model is unchanged" in error, error
        assert job.snapshot() is before and sidebar_config(at) == settings, name
    np.testing.assert_array_equal(job.predict_proba(images), predictions)
    assert not marker.exists()

    for name in ("../escaped", "/tmp/absolute", "sub/dir"):
        at.text_input(key="save_name").input(name).run()
        at.button(key="save_model").click().run()
        (error,) = texts(at.error)
        assert error.startswith("Not saved:") and "cannot be a model name" in error, error
    assert not list(tmp_path.rglob("*.pt")), "nothing may be written anywhere"
    assert job.snapshot() is before


def drawn(digit: np.ndarray) -> dict:
    """The canvas component's state after `digit` (28 x 28, ink high) was drawn 10 times larger on it."""
    pixels = np.full((280, 280, 4), 255, dtype=np.uint8)
    pixels[..., :3] = (np.kron(digit, np.ones((10, 10)))[..., None] * 255).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    return {
        "drawing": {
            "raw": {"objects": []},
            "data": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode(),
        }
    }


def test_a_model_named_at_start_reads_a_drawing_at_once(open_app, trained_file, mnist_data):
    at = open_app({"tab": "draw"}, arguments=("--model-file", str(trained_file)))
    snapshot = at.session_state["job"].snapshot()
    assert (snapshot.state, snapshot.message, snapshot.config) == (JobState.LOADED, "zoo-quick.pt", FAST)
    assert sidebar_config(at) == FAST and not at.sidebar.warning  # no pending changes
    labels = mnist_data.test_labels.numpy()
    for digit in (1, 7):
        first = int(np.flatnonzero(labels == digit)[0])
        at.session_state["draw_canvas_0"] = drawn(mnist_data.test_images[first].numpy())
        at.run()
        (guess,) = [m for m in at.metric if m.label == "Top guess"]
        assert guess.value == str(digit)


def test_the_library_default_starts_new_sessions_and_a_bad_start_file_is_said(open_app, trained_file, models_dir):
    models_dir.mkdir()
    (models_dir / "quick.pt").write_bytes(trained_file.read_bytes())
    first = open_app({"tab": "models"})
    assert first.session_state["job"].snapshot().state == JobState.IDLE
    first.selectbox(key="library_choice").set_value("quick")
    first.button(key="mark_default").click().run()
    assert library.default_name(models_dir) == "quick"
    assert list(first.dataframe[0].value["starts sessions"]) == ["✓"]

    second = open_app()
    snapshot = second.session_state["job"].snapshot()
    assert (snapshot.state, snapshot.message, snapshot.config) == (JobState.LOADED, "quick", FAST)
    assert "Loaded **quick** (zoo, trained 1 epoch" in texts(second.info)[0]

    missing = open_app(arguments=("--model-file", str(models_dir / "absent.pt")))
    (error,) = texts(missing.error)
    assert "could not be loaded" in error and "absent.pt" in error
    assert missing.session_state["job"].snapshot().state == JobState.IDLE
    unknown = open_app(arguments=("--model", "x.pt"))
    assert "not understood" in texts(unknown.error)[0]


ISSUE_LINK = {"model": "zoo", "epochs": "10", "batch_size": "64", "lr": "0.001", "seed": "0", "augment": "1"}


def test_a_link_opens_its_setup_and_the_address_follows_changes(open_app):
    at = open_app({**ISSUE_LINK, "tab": "draw"})
    assert sidebar_config(at) == TrainConfig("zoo", 10, 64, 1e-3, 0, True)
    assert at.session_state["tab"] == "Draw" and not at.warning
    assert at.query_params == {**ISSUE_LINK, "tab": "draw"}

    at.slider(key="epochs").set_value(12).run()
    at.toggle(key="augment").set_value(False).run()
    open_tab(at, "Test digits")
    assert at.query_params == {**ISSUE_LINK, "epochs": "12", "augment": "0", "tab": "test"}
    at.radio(key="model").set_value("cnn").run()  # cnn's usual settings, in the address too
    cnn = TrainConfig.for_model("cnn")
    assert at.query_params["epochs"] == str(cnn.epochs) and at.query_params["lr"] == f"{cnn.lr:g}"

    copied = open_app(dict(at.query_params))  # the copied link, in a new session
    assert sidebar_config(copied) == sidebar_config(at) and copied.session_state["tab"] == "Test digits"


def test_bad_link_values_fall_back_with_a_visible_notice(open_app):
    at = open_app({"model": "resnet", "epochs": "500", "lr": "fast", "batch_size": "100", "tab": "nowhere"})
    (notice,) = texts(at.warning)
    for said in (
        "model 'resnet' is not one of seed, zoo, cnn, draw: using seed",
        "epochs must be at most 100, got 500: using 30",
        "learning rate must be a number, got 'fast': using 3e-4",
        "batch size 100 is not offered here: using 128",
        "there is no tab 'nowhere'",
    ):
        assert said in notice
    assert sidebar_config(at) == TrainConfig(batch_size=128)
    assert at.session_state["tab"] == "Train" and not at.exception
    assert at.query_params == {**dict.fromkeys(ISSUE_LINK), **at.query_params} and at.query_params["epochs"] == "30"
    at.button(key="dismiss_link_notices").click().run()
    assert not at.warning


def test_presentation_mode_from_the_link_and_the_switch(open_app):
    at = open_app({**FAST_LINK, "present": "1"})
    assert at.toggle(key="present").value and at.query_params["present"] == "1"
    assert [expander.label for expander in at.sidebar.expander] == ["More settings"]  # what a presenter rarely touches
    assert sidebar_config(at) == FAST
    assert any(PRESENTATION_CSS in html.proto.body for html in at.html)

    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params and not at.sidebar.expander
    assert not any(PRESENTATION_CSS in html.proto.body for html in at.html)
    assert sidebar_config(at) == FAST  # the folded settings kept their values


def test_the_finder_suggests_a_rate_and_leaves_the_model_alone(open_app):
    at = open_app(FAST_LINK)
    job = at.session_state["job"]
    before = job.snapshot()
    weights = {k: v.clone() for k, v in job.model().state_dict().items()}
    at.button(key="find_lr").click().run()
    finder_chart = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert finder_chart["layout"]["xaxis"]["type"] == "log"
    use = at.button(key="use_lr")
    rate = float(use.label.removeprefix("Use "))
    assert 1e-3 <= rate <= 1e-1
    use.click().run()
    assert at.select_slider(key="lr").value == rate and at.query_params["lr"] == f"{rate:g}"
    assert job.snapshot() is before
    assert all(torch.equal(job.model().state_dict()[k], v) for k, v in weights.items())
