"""Sweeps here (`python -m mnistdemo sweep`, two at a time) on tiny synthetic data: the grid, the
table, the runs file the app's comparison loads, bad input, and Ctrl-C keeping the finished runs.
Sweeps on a Ray cluster are in test_cluster.py."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnistdemo.cli import main
from mnistdemo.config import TrainConfig
from mnistdemo.runs import runs_from_json
from mnistdemo.sweep import grid

REPO = Path(__file__).resolve().parents[1]
SMALL = ["sweep", "--model", "zoo", "--lr", "1e-3,1e-2", "--batch-size", "16,64", "--epochs", "2"]


def test_the_grid_is_every_combination_on_the_presets_settings():
    configs = grid("cnn", {"batch_size": (16, 64), "lr": (1e-3, 1e-2)}, epochs=2)
    assert [(c.lr, c.batch_size) for c in configs] == [(1e-3, 16), (1e-2, 16), (1e-3, 64), (1e-2, 64)]
    assert all(c.model == "cnn" and c.epochs == 2 and c.seed == 0 for c in configs)
    assert grid("seed", {}) == [TrainConfig()]


def test_a_sweep_writes_its_finished_runs_and_a_table(synthetic_data_dir, tmp_path, capsys):
    out = tmp_path / "runs.json"
    assert main([*SMALL, "--data-dir", str(synthetic_data_dir), "--out", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["lr", "batch", "seed", "epochs"] and len(table) == 5
    assert all(line.endswith("finished") for line in table[1:])
    saved = json.loads(out.read_text())
    settings = [(run["config"]["lr"], run["config"]["batch_size"]) for run in saved["runs"]]
    assert sorted(settings) == [(1e-3, 16), (1e-3, 64), (1e-2, 16), (1e-2, 64)]
    assert all(run["outcome"] == "finished" and len(run["history"]) == 2 for run in saved["runs"])
    compared = runs_from_json(out.read_bytes())  # what the app's run comparison loads
    assert sorted((run.config.lr, run.config.batch_size) for run in compared) == sorted(settings)
    assert all(run.source == "sweep" and run.loss_curve and run.final.epoch == 2 for run in compared)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--lr", "0,1e-3"], "argument --lr: learning rate must be above 0"),
        (["--lr", "1e-3,1e-3"], "argument --lr: '1e-3,1e-3' names a value twice"),
        (["--batch-size", "16,big"], "argument --batch-size: 'big' is not a whole number"),
        (["--parallel", "0"], "argument --parallel: invalid choice"),
        (["--out", "{tmp}/no/such/folder/runs.json"], "cannot write the runs to"),
        (["--ray", "127.0.0.1:9"], "the Ray cluster at 127.0.0.1:9 cannot be reached"),
    ],
)
def test_bad_sweeps_say_what_is_wrong_in_one_line(arguments, said, synthetic_data_dir, tmp_path, capsys):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    try:
        code = main(["sweep", "--epochs", "1", "--data-dir", str(synthetic_data_dir), *arguments])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    error = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and said in error[-1], error


def test_ctrl_c_stops_every_run_and_keeps_the_finished_ones(synthetic_data_dir, tmp_path):
    out = tmp_path / "runs.json"
    command = [sys.executable, "-m", "mnistdemo", "sweep", "--model", "zoo", "--lr", "1e-2,2e-2,3e-2", "--epochs", "10"]
    command += ["--batch-size", "1", "--parallel", "1", "--data-dir", str(synthetic_data_dir), "--out", str(out)]
    # Ctrl-C as a terminal sends it, also when this test runs in the background (where a shell starts
    # commands with SIGINT ignored, and Python then never raises KeyboardInterrupt)
    sweep = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    said = ""
    deadline = time.monotonic() + 120
    while "1/3" not in said:  # tqdm's count: the first run has finished
        assert time.monotonic() < deadline and sweep.poll() is None, said
        said += sweep.stderr.read(1)
    time.sleep(0.5)
    sweep.send_signal(signal.SIGINT)
    stdout, rest = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, said + rest
    assert "interrupted" in rest and "1 finished run in" in rest
    (run,) = json.loads(out.read_text())["runs"]
    assert run["outcome"] == "finished" and run["config"]["lr"] == 1e-2
    assert "stopped" in stdout  # the table shows the runs Ctrl-C stopped
