"""The CLI and the model library: `train --save NAME` writes into it, `evaluate NAME` reads from it,
`models` lists it and marks the model the app starts with; mistakes are one line, before training."""

from __future__ import annotations

import json

import pytest
import torch

from mnistdemo.cli import main
from mnistdemo.library import default_name

pytestmark = pytest.mark.usefixtures("single_thread")

QUICK = ["--epochs", "1", "--batch-size", "64", "--lr", "0.01", "--model", "zoo"]  # learns the synthetic digits


@pytest.fixture
def run(synthetic_data_dir, tmp_path, capsys):
    """`python -m mnistdemo ARGS` in this process, on synthetic data and a library in tmp_path/models:
    (exit code, stdout lines, stderr)."""

    def run(*args: str) -> tuple[int, list[str], str]:
        try:
            code = main([*args, "--data-dir", str(synthetic_data_dir), "--models-dir", str(tmp_path / "models")])
        except SystemExit as exit:
            code = exit.code
        out, err = capsys.readouterr()
        return code, out.splitlines(), err

    return run


def test_train_saves_into_the_library_by_name_and_the_library_serves_it(run, tmp_path):
    code, out, err = run("train", *QUICK, "--save", "talk zoo", "--json")
    assert code == 0, err
    summary = json.loads(out[-1])
    path = tmp_path / "models" / "talk zoo.pt"
    assert summary["saved"] == str(path)
    saved = torch.load(path, weights_only=True)
    assert saved["name"] == "talk zoo" and saved["config"]["model"] == "zoo" and "optimizer" in saved["training"]

    code, out, _ = run("evaluate", "talk zoo", "--json")
    assert code == 0 and json.loads(out[0])["test_acc"] == summary["test_acc"]

    code, out, _ = run("models", "--default", "talk zoo")
    assert code == 0 and default_name(tmp_path / "models") == "talk zoo"
    assert out[0].endswith("new page sessions start with talk zoo")
    assert out[1].startswith(f"* talk zoo: zoo, 1 epochs, test accuracy {summary['test_acc']:.2f}%, saved 20")
    code, out, _ = run("models", "--json")
    assert json.loads(out[0]) | {"saved_at": None} == {
        "name": "talk zoo",
        "default": True,
        "problem": None,
        "model": "zoo",
        "epochs": 1,
        "test_acc": summary["test_acc"],
        "saved_at": None,
    }
    code, out, _ = run("models", "--no-default")
    assert code == 0 and default_name(tmp_path / "models") is None


def test_a_path_is_still_a_file_and_keeps_the_training_state(run, tmp_path):
    code, _, err = run("train", *QUICK, "--save", str(tmp_path / "plain.pt"))
    assert code == 0, err
    assert "optimizer" in torch.load(tmp_path / "plain.pt", weights_only=True)["training"]
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", *QUICK, "--save", ".hidden"], "'.hidden' cannot be a model name"),
        (["train", *QUICK, "--save", "taken"], "already holds a model named 'taken' (add --replace)"),
        (["evaluate", "absent"], "holds no model named 'absent'"),
        (["models", "--default", "absent"], "holds no model named 'absent'"),
    ],
)
def test_library_mistakes_get_one_line_before_any_training(run, tmp_path, args, message):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "taken.pt").write_bytes(b"")
    code, out, err = run(*args)
    assert code == 1 and out == [] and err.count("\n") == 1 and message in err, err


def test_replace_overwrites_a_library_model(run, tmp_path):
    assert run("train", *QUICK, "--save", "again")[0] == 0
    assert run("train", *QUICK, "--seed", "1", "--save", "again", "--replace")[0] == 0
    assert torch.load(tmp_path / "models" / "again.pt", weights_only=True)["config"]["seed"] == 1
