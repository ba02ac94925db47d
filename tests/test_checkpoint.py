import pickle

import numpy as np
import pytest
import torch

import mnistdemo
from mnistdemo.checkpoint import FORMAT, CheckpointError, load_checkpoint, load_model, save_checkpoint
from mnistdemo.config import TrainConfig
from mnistdemo.inference import predict_proba
from mnistdemo.models import PRESETS, build_model
from mnistdemo.training import Trainer

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def trained(synthetic_data):
    trainer = Trainer(synthetic_data, TrainConfig(batch_size=32, lr=1e-2, epochs=30), torch.device("cpu"))
    trainer.run(2)
    return trainer


def test_checkpoint_loads_with_weights_only(tmp_path, trained):
    path = tmp_path / "model.pt"
    save_checkpoint(path, trained.model, trained.config, trained.history)

    saved = torch.load(path, weights_only=True)

    assert saved["format"] == FORMAT
    assert saved["config"]["model"] == "seed" and saved["config"]["lr"] == 1e-2
    assert len(saved["history"]) == 2
    assert all(torch.equal(saved["state_dict"][k], v) for k, v in trained.model.state_dict().items())


def test_round_trip_reproduces_predictions_config_and_history(tmp_path, trained, synthetic_data):
    path = tmp_path / "model.pt"
    save_checkpoint(path, trained.model, trained.config, trained.history)
    images = synthetic_data.test_images.numpy()

    model, config, history = load_checkpoint(path)

    assert config == trained.config
    assert history == trained.history
    assert not model.training
    np.testing.assert_array_equal(predict_proba(model, images), predict_proba(trained.model, images))
    np.testing.assert_array_equal(predict_proba(mnistdemo.load_model(path), images), predict_proba(model, images))


@pytest.mark.parametrize("name", PRESETS)
def test_every_model_round_trips(tmp_path, name):
    model = build_model(name, torch.Generator().manual_seed(0))
    images = np.random.default_rng(0).random((4, 28, 28))
    save_checkpoint(tmp_path / "model.pt", model, TrainConfig.for_model(name), [])

    loaded = load_model(tmp_path / "model.pt")

    np.testing.assert_array_equal(predict_proba(loaded, images), predict_proba(model, images))


def write_torch_file(path, payload):
    torch.save(payload, path)
    return path


def write_bytes(path, content: bytes):
    path.write_bytes(content)
    return path


def make_directory(path):
    path.mkdir()
    return path


def damaged_checkpoint(path):
    model = build_model("seed")
    state = model.state_dict()
    state["1.weight"] = torch.zeros(3, 3)  # wrong shape for Linear(784, 32)
    return write_torch_file(path, {"format": FORMAT, "config": {"model": "seed"}, "history": [], "state_dict": state})


class NotAWeight:
    pass


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda path: path, "no checkpoint at"),
        (lambda path: write_bytes(path, b"this is not a checkpoint"), "is not a readable checkpoint"),
        (lambda path: write_bytes(path, b""), "is not a readable checkpoint"),
        (make_directory, "is not a readable checkpoint"),
        (lambda path: write_bytes(path, pickle.dumps(NotAWeight(), protocol=2)), "is not a readable checkpoint"),
        (lambda path: write_torch_file(path, {"anything": torch.zeros(2)}), "is not a mnistdemo checkpoint"),
        (lambda path: write_torch_file(path, [1, 2, 3]), "is not a mnistdemo checkpoint"),
        (lambda path: write_torch_file(path, {"format": FORMAT}), "is damaged"),
        (lambda path: write_torch_file(path, {"format": FORMAT, "config": None, "state_dict": {}}), "is damaged"),
        (damaged_checkpoint, "holds weights that do not fit its seed model"),
    ],
    ids=[
        "missing",
        "garbage",
        "empty",
        "directory",
        "foreign pickle",
        "other dict",
        "list",
        "no weights",
        "no config",
        "wrong shapes",
    ],
)
def test_bad_checkpoints_raise_checkpoint_error(tmp_path, make, message):
    path = make(tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_pickled_object_is_never_executed(tmp_path):
    # weights_only loading must refuse arbitrary pickles rather than run them
    path = tmp_path / "model.pt"
    torch.save({"format": FORMAT, "evil": NotAWeight()}, path)
    with pytest.raises(CheckpointError, match="is not a readable checkpoint"):
        load_model(path)
