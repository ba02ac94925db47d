"""The model library on tiny synthetic data: save -> list -> load gives the same model, history and
training; every bad file is refused with its reason and changes nothing; names stay in the folder."""

from __future__ import annotations

import io
import os
import pickle
import time
import zipfile
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

from mnistdemo import library
from mnistdemo.checkpoint import FORMAT, CheckpointError, read_checkpoint, save_checkpoint
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import JobState, TrainingJob
from mnistdemo.library import LibraryError
from mnistdemo.models import build_model
from mnistdemo.training import Trainer

pytestmark = pytest.mark.usefixtures("single_thread")

CONFIG = TrainConfig(model="zoo", epochs=2, batch_size=32, lr=1e-2, seed=5)
LIMIT = 2**20  # 1 MB: a zoo checkpoint is about a tenth of it


@pytest.fixture
def trained(synthetic_data):
    trainer = Trainer(synthetic_data, CONFIG, torch.device("cpu"))
    trainer.run(2)
    return trainer


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "models"


def run_to_end(job: TrainingJob, config: TrainConfig) -> None:
    job.start(config)
    while job.is_running():
        time.sleep(0.01)


def save(folder, trainer, name="talk", **kwargs):
    return library.save_model(
        folder, name, trainer.model, trainer.config, trainer.history, trainer.training_state(), **kwargs
    )


def test_models_dir_is_the_argument_else_the_environment_else_beside_the_data(tmp_path, monkeypatch):
    monkeypatch.delenv(library.MODELS_DIR_ENV, raising=False)
    monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(tmp_path / "data"))
    assert library.resolve_models_dir() == tmp_path / "data" / "models"
    monkeypatch.setenv(library.MODELS_DIR_ENV, str(tmp_path / "env"))
    assert library.resolve_models_dir() == tmp_path / "env"
    assert library.resolve_models_dir(tmp_path / "given") == tmp_path / "given"


def test_round_trip_lists_loads_and_training_continues_exactly(synthetic_data, trained, folder):
    path = save(folder, trained)
    assert path == folder / "talk.pt"
    assert torch.load(path, weights_only=True)["name"] == "talk"

    (entry,) = library.list_models(folder, LIMIT)
    assert (entry.name, entry.problem, entry.default) == ("talk", "", False)
    assert entry.checkpoint.config == CONFIG and len(entry.checkpoint.history) == 2
    assert entry.checkpoint.test_acc == trained.history[-1].test_acc
    assert entry.checkpoint.saved_at[:4].isdigit() and "T" in entry.checkpoint.saved_at

    loaded = library.load_named(folder, "talk", LIMIT)
    images = synthetic_data.test_images
    assert torch.equal(loaded.model(images), trained.model.eval()(images))
    assert loaded.history == trained.history

    resumed = Trainer(synthetic_data, TrainConfig(), torch.device("cpu"))
    resumed.restore(loaded.model.state_dict(), loaded.config, loaded.history, loaded.training)
    resumed.run(1)
    trained.run(1)  # the same model, never saved: the same weights, bit for bit
    for key, value in trained.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    assert [r.epoch for r in resumed.history] == [1, 2, 3]


def test_a_job_takes_a_loaded_model_and_train_continues(synthetic_data, trained, folder):
    save(folder, trained)
    checkpoint = library.load_named(folder, "talk", LIMIT)
    job = TrainingJob(synthetic_data, TrainConfig())
    job.load(checkpoint, "talk")
    snapshot = job.snapshot()
    assert (snapshot.state, snapshot.message, snapshot.config, snapshot.history) == (
        JobState.LOADED,
        "talk",
        CONFIG,
        tuple(trained.history),
    )
    images = synthetic_data.test_images.numpy()
    np.testing.assert_allclose(job.predict_proba(images), torch.exp(trained.model(synthetic_data.test_images)).detach())

    step = checkpoint.training["optimizer"]["state"][0]["step"].clone()
    run_to_end(job, replace(CONFIG, epochs=1))
    assert job.snapshot().epochs_done == 3 and job.snapshot().history[:2] == tuple(trained.history)
    assert torch.equal(checkpoint.training["optimizer"]["state"][0]["step"], step), "the checkpoint must not change"


def test_two_jobs_from_one_checkpoint_share_nothing(synthetic_data, trained, folder):
    save(folder, trained)
    checkpoint = library.load_named(folder, "talk", LIMIT)
    before = {k: v.clone() for k, v in checkpoint.model.state_dict().items()}
    first, second = TrainingJob(synthetic_data), TrainingJob(synthetic_data)
    first.load(checkpoint, "talk")
    second.load(checkpoint, "talk")
    run_to_end(first, replace(CONFIG, epochs=1))
    assert all(torch.equal(checkpoint.model.state_dict()[k], v) for k, v in before.items())
    np.testing.assert_array_equal(
        second.predict_proba(synthetic_data.test_images.numpy()),
        torch.exp(checkpoint.model(synthetic_data.test_images)).detach().numpy(),
    )


def test_the_default_mark_names_a_model_in_the_folder(trained, folder):
    save(folder, trained, "first")
    save(folder, trained, "second")
    assert library.default_name(folder) is None
    library.set_default(folder, "second")
    assert library.default_name(folder) == "second"
    assert [(e.name, e.default) for e in library.list_models(folder)] == [("first", False), ("second", True)]
    with pytest.raises(LibraryError, match="holds no model named 'third'"):
        library.set_default(folder, "third")
    library.set_default(folder, None)
    assert library.default_name(folder) is None
    (folder / library.DEFAULT_MARK).write_text("../../elsewhere\n")
    with pytest.raises(LibraryError, match="marks no model"):
        library.default_name(folder)


def test_a_taken_name_needs_replace(trained, folder):
    save(folder, trained)
    with pytest.raises(LibraryError, match="already holds a model named 'talk'"):
        save(folder, trained, "talk.pt")  # the same name: a trailing .pt is not part of it
    save(folder, trained, replace=True)
    assert [e.name for e in library.list_models(folder)] == ["talk"]


@pytest.mark.parametrize(
    "name",
    ["../outside", "/etc/passwd", "a/b", "a\\b", ".hidden", "..", " ", "", "x" * 65, "nul\0byte", "tab\tname", "-rf"],
)
def test_names_that_could_leave_the_folder_are_refused(trained, folder, tmp_path, name):
    with pytest.raises(LibraryError):
        save(folder, trained, name)
    with pytest.raises(LibraryError):
        library.load_named(folder, name)
    assert sorted(p.name for p in tmp_path.rglob("*.pt")) == []


def test_a_link_out_of_the_folder_is_refused(trained, folder, tmp_path):
    outside = tmp_path / "outside.pt"
    save_checkpoint(outside, trained.model, trained.config, trained.history)
    folder.mkdir()
    (folder / "innocent.pt").symlink_to(outside)
    with pytest.raises(LibraryError, match="leads outside the models folder"):
        library.load_named(folder, "innocent")
    (entry,) = library.list_models(folder)
    assert entry.checkpoint is None and "leads outside" in entry.problem


class RunsCode:
    """Unpickling this calls os.system: weights_only loading must refuse it before anything runs."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_the_code_pickle_runs_code_when_unpickled_without_weights_only(tmp_path):
    marker = tmp_path / "code-ran"
    pickle.loads(pickle.dumps(RunsCode(marker), protocol=2))  # what the library must never do
    assert marker.exists()


def torch_file(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def checkpoint_file(model_name: str, weights: dict) -> bytes:
    """A checkpoint whose settings say `model_name`, holding `weights`."""
    config = {**asdict(TrainConfig()), "model": model_name}
    return torch_file({"format": FORMAT, "config": config, "history": [], "state_dict": weights})


def misshapen(name: str) -> dict:
    weights = build_model(name).state_dict()
    weights["1.weight"] = torch.zeros(3, 3)  # Linear(784, 32) holds 32 x 784
    return weights


def oversized(trainer) -> bytes:
    """A real checkpoint, padded past the limit with a zip entry torch never reads."""
    buffer = io.BytesIO(library.checkpoint_bytes(trainer.model, trainer.config, trainer.history))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("padding", os.urandom(LIMIT + 1))
    return buffer.getvalue()


# name -> (the file's bytes, given a trained Trainer and a marker path; what the message says)
BAD_FILES = {
    "corrupt": (lambda t, m: b"PK\x03\x04 not really a zip", "is not a readable checkpoint"),
    "truncated": (lambda t, m: library.checkpoint_bytes(t.model, t.config, t.history)[:500], "not a readable"),
    "code in a pickle": (lambda t, m: pickle.dumps(RunsCode(m), protocol=2), "is not a readable checkpoint"),
    "code in a torch file": (lambda t, m: torch_file({"format": FORMAT, "x": RunsCode(m)}), "is not a readable"),
    "not a checkpoint": (lambda t, m: torch_file({"weights": torch.zeros(3)}), "is not a mnistdemo checkpoint"),
    "another preset's weights": (lambda t, m: checkpoint_file("cnn", build_model("seed").state_dict()), "cnn model"),
    "other shapes": (lambda t, m: checkpoint_file("zoo", misshapen("zoo")), "another network than the zoo model"),
    "unknown preset": (lambda t, m: checkpoint_file("resnet", build_model("seed").state_dict()), "model 'resnet'"),
    "too large": (lambda t, m: oversized(t), "checkpoints above 1.0 MB are refused"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_refused_and_changes_nothing(synthetic_data, trained, tmp_path, name):
    make, message = BAD_FILES[name]
    marker = tmp_path / "code-ran"
    content = make(trained, marker)
    job = TrainingJob(synthetic_data, CONFIG)
    run_to_end(job, CONFIG)
    before = job.snapshot()
    images = synthetic_data.test_images.numpy()
    predictions = job.predict_proba(images)

    with pytest.raises((CheckpointError, LibraryError), match=message):
        job.load(library.load_upload(f"{name}.pt", content, LIMIT), "upload")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "bad.pt").write_bytes(content)
    with pytest.raises((CheckpointError, LibraryError), match=message):
        library.load_named(tmp_path / "models", "bad", LIMIT)
    (entry,) = library.list_models(tmp_path / "models", LIMIT)
    assert entry.checkpoint is None and message.split()[-1] in entry.problem

    assert not marker.exists(), "loading a file ran code from it"
    assert job.snapshot() is before
    np.testing.assert_array_equal(job.predict_proba(images), predictions)


def test_an_upload_must_be_a_pt_file(trained):
    content = library.checkpoint_bytes(trained.model, trained.config, trained.history)
    with pytest.raises(LibraryError, match=r"is not a \.pt file"):
        library.load_upload("model.pkl", content)
    assert library.load_upload("MODEL.PT", content).config == CONFIG


def test_a_damaged_training_state_is_refused(trained):
    state = trained.training_state()
    state["optimizer"]["state"][0]["exp_avg"] = torch.zeros(3)
    buffer = io.BytesIO()
    save_checkpoint(buffer, trained.model, trained.config, trained.history, training=state)
    with pytest.raises(CheckpointError, match="optimizer state does not fit"):
        read_checkpoint(io.BytesIO(buffer.getvalue()), "model.pt")


def test_a_checkpoint_without_training_state_still_loads_and_trains(synthetic_data, trained, tmp_path):
    path = tmp_path / "plain.pt"
    save_checkpoint(path, trained.model, trained.config, trained.history)  # as the CLI's --save PATH did before
    checkpoint = library.load_file(path)
    assert checkpoint.training is None and checkpoint.name == ""
    job = TrainingJob(synthetic_data)
    job.load(checkpoint, "plain.pt")
    run_to_end(job, replace(CONFIG, epochs=1))
    assert job.snapshot().state == JobState.FINISHED and job.snapshot().epochs_done == 3
