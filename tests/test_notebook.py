"""Integration on the real MNIST (from ../shared): the notebook's numbers, reached with its defaults."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mnistdemo.config import TrainConfig
from mnistdemo.data import ARCHIVES
from mnistdemo.inference import predict_proba
from mnistdemo.models import SIGMOID_SOFTMAX_CAP

# One torch thread: this small model gains little from a second one, and on a busy machine (a
# shared CI runner, the app and a browser beside it) two threads fight and run 10x slower.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("single_thread")]

REPO = Path(__file__).resolve().parents[1]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_import_verifies_and_extracts_the_official_archives(mnist_data_dir):
    raw = mnist_data_dir / "MNIST" / "raw"
    for name in ARCHIVES:
        assert (raw / name).is_file() and (raw / name.removesuffix(".gz")).is_file()


def test_the_real_data_set_loads_as_published(mnist_data):
    assert mnist_data.train_images.shape == (60000, 28, 28)
    assert mnist_data.test_images.shape == (10000, 28, 28)
    assert mnist_data.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist_data.test_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert torch.bincount(mnist_data.train_labels).tolist() == TRAIN_COUNTS
    assert torch.bincount(mnist_data.test_labels).tolist() == TEST_COUNTS
    assert mnist_data.train_images.mean().item() == pytest.approx(0.1307, abs=1e-4)
    assert mnist_data.train_images.min() == 0 and mnist_data.train_images.max() == 1


def test_seed_model_reaches_the_notebooks_accuracy(notebook_run, mnist_data):
    history = notebook_run.history

    assert notebook_run.config == TrainConfig()  # the notebook: seed model, 30 epochs, batch 256, Adam 3e-4
    assert len(history) == 30
    assert history[-1].test_acc >= 92.0, history[-1]
    assert history[-1].loss < history[0].loss
    probabilities = predict_proba(notebook_run.model, mnist_data.test_images[:1000].numpy())
    assert probabilities.max() <= SIGMOID_SOFTMAX_CAP + 1e-6  # confident, yet never above about 0.23


def test_zoo_model_from_the_command_line(mnist_data_dir):
    env = {k: v for k, v in os.environ.items() if k != "MNISTDEMO_DATA_DIR"} | {"OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mnistdemo", "train", "--model", "zoo", "--json", "--data-dir", str(mnist_data_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 31  # 30 epochs, then the summary
    summary = json.loads(lines[-1])
    assert summary["summary"] is True and summary["model"] == "zoo" and summary["epoch"] == 30
    assert summary["test_acc"] >= 93.5, summary
