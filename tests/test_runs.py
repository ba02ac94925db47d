"""Runs kept for comparison: the job records every run that ends, the JSON and CSV forms read back,
legends name only what differs, and the overlay draws one line per ticked run."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from mnistdemo import charts, comparison
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import LocalRunner, TrainingJob
from mnistdemo.runs import (
    CSV_COLUMNS,
    RunRecord,
    loss_curve,
    run_to_dict,
    runs_from_json,
    runs_to_csv,
    runs_to_json,
)
from mnistdemo.training import EpochResult

CONFIG = TrainConfig(epochs=2, batch_size=32, lr=1e-2, seed=3)


def record(number: int = 1, outcome: str = "finished", epochs: int = 2, **settings) -> RunRecord:
    history = tuple(EpochResult(e, 1.0 / e, 80.0 + e, 79.0 + e, 1.5 * e) for e in range(1, epochs + 1))
    return RunRecord(
        number=number,
        config=replace(CONFIG, **settings),
        outcome=outcome,
        first_epoch=0,
        history=history,
        loss_curve=tuple((e / 2, 2.0 / e) for e in range(1, 2 * epochs + 2)),
        duration_s=3.25,
        ended_at="2025-05-01T10:00:00+02:00",
    )


def wait_until_idle(job: TrainingJob) -> None:
    deadline = time.monotonic() + 60
    while job.is_running() or job.snapshot().active:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_every_run_that_ends_joins_the_list_across_resets(synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG)
    job.start(CONFIG)
    wait_until_idle(job)
    trained = len(job.snapshot().batch_losses)
    job.start(replace(CONFIG, epochs=100))  # stopped after some batches
    while len(job.snapshot().batch_losses) == trained:
        time.sleep(0.005)
    job.stop()
    job.reset(replace(CONFIG, batch_size=64))
    job.start(replace(CONFIG, batch_size=64, epochs=1))
    wait_until_idle(job)

    first, stopped, third = job.runs()
    assert [r.number for r in job.runs()] == [1, 2, 3]
    assert (first.outcome, first.first_epoch, [e.epoch for e in first.history]) == ("finished", 0, [1, 2])
    assert first.config == CONFIG and first.final.test_acc == first.history[-1].test_acc
    assert stopped.outcome == "stopped" and stopped.first_epoch == 2 and stopped.config.epochs == 100
    assert all(x > 2 for x, _ in stopped.loss_curve), "the stopped run's curve continues the model's epochs"
    assert (third.config.batch_size, third.first_epoch, len(third.history)) == (64, 0, 1)
    assert first.loss_curve[-1][0] == 2.0 and len(first.loss_curve) == 2  # 20 batches, at least 10 a point
    assert all(r.duration_s > 0 and r.ended_at for r in job.runs())


def test_a_run_stopped_before_its_first_batch_is_not_kept(synthetic_data):
    job = TrainingJob(synthetic_data, CONFIG, runner=LocalRunner(threading.Semaphore(0)))  # no free slot: it waits
    job.start(CONFIG)
    job.stop()
    assert job.snapshot().message == "stopped before it started" and job.runs() == ()


def test_runs_from_elsewhere_join_after_the_others(synthetic_data):
    job = TrainingJob(synthetic_data, CONFIG)
    job.add_runs([record(7, lr=1e-3), record(7, lr=1e-2)])
    assert [(r.number, r.config.lr) for r in job.runs()] == [(1, 1e-3), (2, 1e-2)]


def test_loss_curve_averages_equal_shares_of_batches():
    rows = np.array([(i / 100, float(i % 2)) for i in range(1, 1001)])  # losses 1, 0, 1, 0 ...
    curve = loss_curve(rows, points=50)
    assert len(curve) == 50
    assert curve[-1][0] == 10.0 and all(y == pytest.approx(0.5) for _, y in curve)
    assert len(loss_curve(rows[:25])) == 2  # at least 10 batches per point
    assert loss_curve(np.empty((0, 2))) == ()


def test_json_round_trip_and_its_documented_form():
    records = [record(1), record(2, "stopped", epochs=0, lr=1e-3)]
    text = runs_to_json(records)
    assert runs_from_json(text) == records
    saved = json.loads(text)
    assert saved["format"] == "mnistdemo-runs/1"
    assert list(saved["runs"][0]) == [
        "number",
        "outcome",
        "config",
        "first_epoch",
        "history",
        "loss_curve",
        "duration_s",
        "ended_at",
        "source",
    ]
    assert saved["runs"][0]["config"] == {
        "model": "seed",
        "epochs": 2,
        "batch_size": 32,
        "lr": 0.01,
        "seed": 3,
        "augment": False,
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "not JSON"),
        ('{"runs": []}', "not a runs file"),
        ('{"format": "mnistdemo-runs/1", "runs": [{"number": 1}]}', "run 1: a run lacks 'outcome'"),
        ('{"format": "mnistdemo-runs/1", "runs": ["x"]}', "run 1: a run is malformed"),
    ],
)
def test_a_bad_runs_file_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        runs_from_json(text)


def test_a_run_with_bad_settings_is_refused():
    row = run_to_dict(record())
    row["config"]["lr"] = -1
    with pytest.raises(ValueError, match="run 1: learning rate must be above 0"):
        runs_from_json(json.dumps({"format": "mnistdemo-runs/1", "runs": [row]}))
    row = run_to_dict(record())
    row["outcome"] = "exploded"
    with pytest.raises(ValueError, match="outcome must be one of finished, stopped"):
        runs_from_json(json.dumps({"format": "mnistdemo-runs/1", "runs": [row]}))


def test_csv_has_one_row_per_run_with_the_final_numbers():
    rows = list(csv.DictReader(io.StringIO(runs_to_csv([record(1), record(2, "stopped", epochs=0, batch_size=64)]))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert (rows[0]["test_acc"], rows[0]["epochs_trained"], rows[0]["lr"]) == ("81.0", "2", "0.01")
    assert (rows[1]["outcome"], rows[1]["batch_size"], rows[1]["test_acc"]) == ("stopped", "64", "")


def test_legends_name_only_the_settings_that_differ():
    runs = [record(1, lr=1e-3, batch_size=64), record(2, lr=1e-2, batch_size=64), record(3, lr=1e-2, batch_size=256)]
    assert comparison.run_labels(runs) == {1: "batch 64 · lr 1e-3", 2: "batch 64 · lr 1e-2", 3: "batch 256 · lr 1e-2"}
    assert comparison.run_labels(runs[1:]) == {2: "batch 64", 3: "batch 256"}
    assert comparison.run_labels([record(1, model="zoo"), record(2, augment=True)]) == {
        1: "zoo · augment off",
        2: "seed · augment on",
    }
    assert comparison.run_labels([record(1), record(2)]) == {1: "run 1", 2: "run 2"}  # nothing differs


def test_table_and_series_of_runs():
    runs = [record(1), record(2, "stopped", epochs=0, lr=1e-3)]
    first, second = comparison.table_rows(runs)
    assert (first["run"], first["epochs"], first["test acc (%)"], first["learning rate"]) == (1, "1–2", 81.0, "1e-2")
    assert (second["outcome"], second["epochs"], second["test acc (%)"]) == ("stopped", "–", None)
    assert [name for name, _, _ in comparison.loss_series(runs)] == ["lr 1e-2", "lr 1e-3"]
    assert [name for name, _, _ in comparison.accuracy_series(runs)] == ["lr 1e-2"]  # the other finished no epoch


def test_overlay_draws_one_line_per_run_in_its_own_colour():
    runs = [record(n, lr=lr) for n, lr in enumerate((1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 5e-2), start=1)]
    figure = charts.comparison_chart(comparison.accuracy_series(runs), "Test accuracy of the runs", "test accuracy")
    assert [trace.name for trace in figure.data] == [f"lr {comparison.format_setting(r.config.lr)}" for r in runs]
    styles = {(trace.line.color, trace.line.dash) for trace in figure.data}
    assert len(styles) == len(runs)
    assert list(figure.data[0].x) == [1, 2] and list(figure.data[0].y) == [80.0, 81.0]
    assert not figure.layout.annotations
    empty = charts.comparison_chart([], "Loss of the runs", "loss")
    assert empty.layout.annotations[0].text == "Tick runs to compare them"
