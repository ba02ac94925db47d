"""`python -m mnistdemo` as a user runs it: in a subprocess, on tiny synthetic data, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mnistdemo import cli, training
from mnistdemo.checkpoint import load_checkpoint, save_checkpoint
from mnistdemo.cli import EXIT_NOT_LEARNING, main
from mnistdemo.config import TrainConfig
from mnistdemo.inference import predict_proba
from mnistdemo.models import build_model
from mnistdemo.room import Room
from mnistdemo.training import Trainer, evaluate

REPO = Path(__file__).resolve().parents[1]
# Any download goes to a proxy that refuses at once, so "offline" is fast and certain everywhere.
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}
EPOCH_KEYS = ["epoch", "loss", "train_acc", "test_acc", "elapsed_s"]

# name -> (arguments, what the one error line must say); {tmp} is a scratch folder, {data} synthetic MNIST.
# Through a real interpreter: one error of the program's own and one of argparse's.
BAD_INPUT = {
    "missing data": (["train", "--epochs", "1", "--data-dir", "{tmp}/empty"], "python -m mnistdemo data --from FOLDER"),
    "lr 0": (["train", "--lr", "0"], "argument --lr: learning rate must be above 0"),
}
# More of the same, checked through `main` in this process, as each interpreter start costs seconds.
MORE_BAD_INPUT = {
    "wrong archives": (["data", "--from", "{tmp}/fake-archives", "--data-dir", "{tmp}/imported"], "md5 mismatch"),
    "batch size 0": (["train", "--batch-size", "0"], "argument --batch-size: batch size must be at least 1, got 0"),
    "epochs -1": (["train", "--epochs", "-1"], "argument --epochs: epochs must be at least 1, got -1"),
    "unreadable checkpoint": (["evaluate", "{tmp}/garbage.pt", "--data-dir", "{data}"], "is not a readable checkpoint"),
    "no archives": (
        ["data", "--from", "{tmp}/empty", "--data-dir", "{tmp}/imported"],
        "does not hold the MNIST archives",
    ),
    "lr text": (["train", "--lr", "fast"], "argument --lr: 'fast' is not a number"),
    "lr nan": (["train", "--lr", "nan"], "argument --lr: learning rate must be a finite number"),
    "huge batch": (["train", "--batch-size", "1000000000000"], "at most 60000 (the training set's size)"),
    "huge seed": (["train", "--seed", "99999999999999999999999"], "random seed must be at most 2147483647"),
    "epochs text": (["train", "--epochs", "2.5"], "argument --epochs: '2.5' is not a whole number"),
    "unknown model": (["train", "--model", "resnet"], "argument --model: invalid choice"),
    "unusable device": (["train", "--device", "tpu9", "--data-dir", "{data}"], "device 'tpu9' is not usable here"),
    "save into a missing folder": (
        ["train", "--save", "{tmp}/no/such/folder/model.pt", "--data-dir", "{data}"],
        "there is no folder",
    ),
    "missing checkpoint": (["evaluate", "{tmp}/absent.pt", "--data-dir", "{data}"], "no checkpoint at"),
    "missing drawings": (
        ["evaluate", "{tmp}/made-here.pt", "--drawings", "{tmp}/absent.sqlite3"],
        "no drawings database",
    ),
    "not a drawings database": (["drawings", "{tmp}/garbage.pt"], "cannot use"),
    "no drawings yet": (
        ["evaluate", "{tmp}/made-here.pt", "--drawings", "{tmp}/empty-room.sqlite3"],
        "no drawings yet",
    ),
    "export into a missing folder": (
        ["drawings", "{tmp}/room.sqlite3", "--npz", "{tmp}/no/such/out.npz"],
        "No such file",
    ),
    "no command": ([], "the following arguments are required: command"),
}
GOOD_INPUT = {
    "train json": [
        "train",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--lr",
        "0.01",
        "--seed",
        "4",
        "--data-dir",
        "{data}",
        "--save",
        "{tmp}/trained.pt",
        "--json",
    ],
    "train plain": [
        "train",
        *("--epochs", "2", "--batch-size", "64", "--lr", "0.01", "--model", "zoo", "--data-dir", "{data}"),
    ],
    "evaluate": ["evaluate", "{tmp}/made-here.pt", "--data-dir", "{data}", "--json"],
    "evaluate drawings": ["evaluate", "{tmp}/made-here.pt", "--drawings", "{tmp}/room.sqlite3", "--json"],
}
ROOM_DRAWINGS = 30


def environment() -> dict[str, str]:
    unwanted = ("mnistdemo_data_dir", "http_proxy", "https_proxy", "no_proxy")
    env = {k: v for k, v in os.environ.items() if k.lower() not in unwanted}
    return {**env, **OFFLINE, "OMP_NUM_THREADS": "1"}


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mnistdemo", *args],
        cwd=REPO,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, write_mnist, synthetic_data) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "empty").mkdir()
    write_mnist(tmp / "fake-archives")  # well-formed, but not the official md5
    (tmp / "garbage.pt").write_bytes(b"this is not a checkpoint")
    trainer = Trainer(synthetic_data, TrainConfig(model="zoo", batch_size=64), torch.device("cpu"))
    trainer.run(1)
    save_checkpoint(tmp / "made-here.pt", trainer.model, trainer.config, trainer.history)
    room = Room(tmp / "room.sqlite3")  # a room whose visitors drew test digits with the seed model shared
    room.share(build_model("seed", torch.Generator().manual_seed(0)), TrainConfig(), [])
    for image, label in zip(synthetic_data.test_images[:ROOM_DRAWINGS], synthetic_data.test_labels, strict=False):
        room.keep("visitor", room.read(image.numpy()), int(label))
    room.store.close()
    Room(tmp / "empty-room.sqlite3").store.close()
    return tmp


def arguments(args: list[str], tmp: Path, data: Path) -> list[str]:
    return [a.format(tmp=tmp, data=data) for a in args]


@pytest.fixture(scope="module")
def runs(scratch, synthetic_data_dir) -> dict[str, subprocess.CompletedProcess]:
    """Every command of this module, started together: each start imports torch for seconds."""
    commands = {name: args for name, (args, _) in BAD_INPUT.items()} | GOOD_INPUT
    processes = {name: start(arguments(args, scratch, synthetic_data_dir)) for name, args in commands.items()}
    return {name: finish(process) for name, process in processes.items()}


def assert_one_line_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode not in (0, None)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mnistdemo") and expected in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("name", BAD_INPUT)
def test_bad_input_gets_one_line_and_a_failing_exit(runs, scratch, name):
    assert_one_line_error(runs[name], BAD_INPUT[name][1])
    assert not (scratch / "imported").exists(), "a refused import must copy nothing"


@pytest.mark.parametrize("name", MORE_BAD_INPUT)
def test_more_bad_input_through_main(scratch, synthetic_data_dir, capsys, name):
    args, expected = MORE_BAD_INPUT[name]
    argv = arguments(args, scratch, synthetic_data_dir)
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    out, err = capsys.readouterr()

    assert_one_line_error(subprocess.CompletedProcess(argv, code, out, err), expected)
    assert not (scratch / "imported").exists()


def test_json_output_is_one_object_per_epoch_then_a_summary(runs, scratch):
    result = runs["train json"]
    assert result.returncode == 0, result.stderr

    *epochs, summary = [json.loads(line) for line in result.stdout.splitlines()]

    assert [list(row) for row in epochs] == [EPOCH_KEYS] * 3
    assert [row["epoch"] for row in epochs] == [1, 2, 3]
    assert summary["summary"] is True
    assert {k: summary[k] for k in EPOCH_KEYS} == epochs[-1]
    assert [summary[k] for k in ("model", "epochs", "batch_size", "lr", "seed", "augment")] == [
        "seed",
        3,
        32,
        0.01,
        4,
        False,
    ]
    assert summary["saved"] == str(scratch / "trained.pt")
    assert epochs[-1]["loss"] < epochs[0]["loss"]


def test_save_writes_a_weights_only_checkpoint(runs, scratch):
    epochs = [json.loads(line) for line in runs["train json"].stdout.splitlines()][:-1]

    saved = torch.load(scratch / "trained.pt", weights_only=True)
    _, config, history = load_checkpoint(scratch / "trained.pt")

    assert saved["config"]["epochs"] == 3 and config == TrainConfig("seed", 3, 32, 0.01, 4)
    assert [r.as_dict() for r in history] == epochs


def test_evaluate_reports_the_checkpoints_test_accuracy(runs, scratch, synthetic_data):
    result = runs["evaluate"]
    assert result.returncode == 0, result.stderr
    model, _, _ = load_checkpoint(scratch / "made-here.pt")
    loss, accuracy = evaluate(model, synthetic_data.test_images, synthetic_data.test_labels)

    row = json.loads(result.stdout)

    assert (row["model"], row["epochs"]) == ("zoo", 1)
    assert row["test_acc"] == round(accuracy, 2) and row["test_loss"] == round(loss, 4)


def test_plain_output_ends_with_one_summary_line(runs):
    result = runs["train plain"]

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("test accuracy ") and result.stdout.count("\n") == 1
    assert "after 2 epochs" in result.stdout
    assert "zoo on " in result.stderr  # the progress bar


def test_cnn_trains_with_its_presets_settings_unless_told(synthetic_data_dir, capsys, single_thread):
    assert main(["train", "--model", "cnn", "--augment", "--json", "--data-dir", str(synthetic_data_dir)]) == 0
    *epochs, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = TrainConfig.for_model("cnn", augment=True)
    assert len(epochs) == expected.epochs
    assert [summary[name] for name in TrainConfig.names()] == [getattr(expected, name) for name in TrainConfig.names()]

    arguments = [
        "train",
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--lr",
        "0.01",
        "--json",
        "--data-dir",
        str(synthetic_data_dir),
    ]
    assert main(arguments) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (summary["epochs"], summary["lr"], summary["batch_size"]) == (1, 0.01, expected.batch_size)


def messages(stderr: str) -> list[str]:
    """The lines the command wrote, without its progress bar's frames."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("mnistdemo:")]


def test_a_diverging_run_warns_and_exits_with_its_own_status(mnist_data_dir, capsys, single_thread):
    code = main(["train", "--model", "zoo", "--lr", "10", "--epochs", "1", "--data-dir", str(mnist_data_dir)])
    out, err = capsys.readouterr()

    assert code == EXIT_NOT_LEARNING == 3
    (warning,) = messages(err)
    assert warning.startswith("mnistdemo: warning: the learning rate is too high (--lr 10): after epoch 1 the loss")
    assert warning.endswith("; try --lr 0.0003")
    assert out.startswith("test accuracy ")  # the run's numbers all the same


def test_a_loss_that_is_not_a_number_stops_the_run_and_saves_nothing(synthetic_data, monkeypatch, capsys, tmp_path):
    images = synthetic_data.train_images.clone()
    images[:, 14, 14] = float("nan")
    monkeypatch.setattr(cli, "load_mnist", lambda data_dir: replace(synthetic_data, train_images=images))

    code = main(["train", "--lr", "0.01", "--batch-size", "32", "--save", str(tmp_path / "model.pt"), "--json"])
    out, err = capsys.readouterr()

    assert code == EXIT_NOT_LEARNING and out == ""
    assert messages(err) == [
        "mnistdemo: warning: the learning rate is too high (--lr 0.01): the loss became nan in epoch 1, batch 1; "
        "try --lr 0.0003"
    ]
    assert not (tmp_path / "model.pt").exists()


def test_out_of_memory_is_one_line(synthetic_data_dir, monkeypatch, capsys, single_thread, out_of_memory):
    def runs_out(log_probs, labels, label_smoothing=0.0):
        raise out_of_memory

    monkeypatch.setattr(training, "crossentropy", runs_out)  # simulated: real ones need a full device
    code = main(["train", "--batch-size", "32", "--data-dir", str(synthetic_data_dir)])
    out, err = capsys.readouterr()

    assert code == 1 and out == "" and "Traceback" not in err
    assert messages(err) == [
        "mnistdemo: error: out of memory training the seed model with batch size 32 on cpu: choose a smaller batch size"
    ]
    assert err.rstrip().endswith(messages(err)[0]), "the progress bar is erased: the error is the last line"


def test_json_runs_say_how_long_they_will_take_on_stderr(synthetic_data_dir, monkeypatch, capsys, single_thread):
    monkeypatch.setattr(cli, "ESTIMATE_AFTER_S", 0.0)
    args = ["train", "--epochs", "3", "--batch-size", "32", "--lr", "0.01", "--json", "--data-dir"]
    assert main([*args, str(synthetic_data_dir)]) == 0
    out, err = capsys.readouterr()

    (estimate,) = messages(err)
    assert estimate.startswith("mnistdemo: this run will take about ") and estimate.endswith(
        " (from its first batches)"
    )
    assert all(json.loads(line) for line in out.splitlines())  # stdout stays JSON


def test_evaluate_scores_a_checkpoint_on_a_rooms_drawings(runs, scratch, synthetic_data):
    result = runs["evaluate drawings"]
    assert result.returncode == 0, result.stderr
    model, _, _ = load_checkpoint(scratch / "made-here.pt")
    images, labels = synthetic_data.test_images[:ROOM_DRAWINGS].numpy(), synthetic_data.test_labels[:ROOM_DRAWINGS]
    expected = 100.0 * float((predict_proba(model, images).argmax(axis=1) == labels.numpy()).mean())

    row = json.loads(result.stdout)

    assert (row["model"], row["drawings"]) == ("zoo", ROOM_DRAWINGS)
    assert row["drawings_acc"] == round(expected, 2)


def test_drawings_summarises_a_room_and_exports_it(scratch, capsys, tmp_path, synthetic_data):
    assert main(["drawings", str(scratch / "room.sqlite3"), "--npz", str(tmp_path / "room-drawings")]) == 0
    out = capsys.readouterr().out

    exported = np.load(tmp_path / "room-drawings", allow_pickle=False)  # the name as given, no ".npz" added
    assert out.startswith(f"{ROOM_DRAWINGS} drawings in ") and "digits meant: 0: " in out
    np.testing.assert_array_equal(exported["images"], synthetic_data.test_images[:ROOM_DRAWINGS].numpy())
    assert exported["labels"].tolist() == synthetic_data.test_labels[:ROOM_DRAWINGS].tolist()
