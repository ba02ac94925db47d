"""Runs: every training run that ended, kept so that runs can be compared, in a plain JSON and CSV form.

JSON (`runs_to_json`, read back by `runs_from_json`; any other tool, a sweep for one, may write it):

    {"format": "mnistdemo-runs/1",
     "runs": [{"number": 1, "outcome": "finished",            # or "stopped"
               "config": {"model": "zoo", "epochs": 10, "batch_size": 64, "lr": 0.001, "seed": 0, "augment": false},
               "first_epoch": 0,                              # epochs the model had trained before this run
               "history": [{"epoch": 1, "loss": 0.41, "train_acc": 89.1, "test_acc": 89.9, "elapsed_s": 1.2}, ...],
               "loss_curve": [[0.05, 2.1], ...],              # [epoch, mean batch loss], at most 200 points
               "duration_s": 12.3, "ended_at": "2025-05-01T10:00:00+02:00", "source": "this session"}]}

CSV (`runs_to_csv`): one row per run, `CSV_COLUMNS`; accuracies in percent, empty when no epoch ended.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from .config import TrainConfig
from .training import EpochResult

FORMAT = "mnistdemo-runs/1"
OUTCOMES = ("finished", "stopped")
LOSS_CURVE_POINTS = 200  # enough for a curve on a chart, small enough for a file of many runs
BATCHES_PER_POINT = 10  # at least: one batch's loss is too noisy to compare runs by
THIS_SESSION = "this session"


@dataclass(frozen=True)
class RunRecord:
    number: int  # 1, 2, ... in the order the runs ended
    config: TrainConfig  # the settings the run trained with
    outcome: str  # "finished" or "stopped"
    first_epoch: int  # epochs the model had trained before the run (0 for new weights)
    history: tuple[EpochResult, ...]  # the epochs this run finished, numbered in the model's life
    loss_curve: tuple[tuple[float, float], ...]  # (epoch, mean loss of the batches around it)
    duration_s: float  # wall-clock time the run trained, evaluation included
    ended_at: str  # ISO 8601 with the time zone
    source: str = THIS_SESSION

    @property
    def final(self) -> EpochResult | None:
        return self.history[-1] if self.history else None


def loss_curve(batch_losses: np.ndarray, points: int = LOSS_CURVE_POINTS) -> tuple[tuple[float, float], ...]:
    """(epoch, loss) rows of every batch -> at most `points` rows, each the mean loss of an equal share
    of the batches (at least `BATCHES_PER_POINT` when there are that many) at the epoch of its last."""
    rows = np.asarray(batch_losses, dtype=np.float64).reshape(-1, 2)
    if not len(rows):
        return ()
    groups = np.array_split(rows, max(1, min(points, len(rows) // BATCHES_PER_POINT)))
    return tuple((round(float(g[-1, 0]), 4), round(float(g[:, 1].mean()), 5)) for g in groups)


def run_to_dict(record: RunRecord) -> dict:
    return {
        "number": record.number,
        "outcome": record.outcome,
        "config": asdict(record.config),
        "first_epoch": record.first_epoch,
        "history": [result.as_dict() for result in record.history],
        "loss_curve": [list(point) for point in record.loss_curve],
        "duration_s": record.duration_s,
        "ended_at": record.ended_at,
        "source": record.source,
    }


def run_from_dict(row: dict) -> RunRecord:
    """ValueError, saying what is wrong, for anything but a run as `run_to_dict` writes it."""
    try:
        outcome = row["outcome"]
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        known = {f.name for f in fields(TrainConfig)}
        return RunRecord(
            number=int(row["number"]),
            config=TrainConfig(**{k: v for k, v in row["config"].items() if k in known}),
            outcome=outcome,
            first_epoch=int(row.get("first_epoch", 0)),
            history=tuple(EpochResult(**result) for result in row["history"]),
            loss_curve=tuple((float(x), float(y)) for x, y in row.get("loss_curve", ())),
            duration_s=float(row["duration_s"]),
            ended_at=str(row.get("ended_at", "")),
            source=str(row.get("source", "")),
        )
    except KeyError as error:
        raise ValueError(f"a run lacks {error}") from None
    except (TypeError, AttributeError) as error:
        raise ValueError(f"a run is malformed: {error}") from None


def runs_to_json(records: Sequence[RunRecord]) -> str:
    return json.dumps({"format": FORMAT, "runs": [run_to_dict(record) for record in records]}, indent=1)


def runs_from_json(text: str | bytes) -> list[RunRecord]:
    """The runs of a `runs_to_json` file; ValueError saying what is wrong with any other."""
    try:
        saved = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or not isinstance(saved.get("runs"), list):
        raise ValueError(f"not a runs file (expected format {FORMAT} and a list of runs)")
    records = []
    for position, row in enumerate(saved["runs"], start=1):
        try:
            records.append(run_from_dict(row))
        except ValueError as error:
            raise ValueError(f"run {position}: {error}") from None
    return records


CSV_COLUMNS = (
    "number",
    "outcome",
    *TrainConfig.names(),
    "first_epoch",
    "epochs_trained",
    "loss",
    "train_acc",
    "test_acc",
    "duration_s",
    "ended_at",
    "source",
)


def runs_to_csv(records: Sequence[RunRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        final = record.final
        writer.writerow(
            {
                "number": record.number,
                "outcome": record.outcome,
                **asdict(record.config),
                "first_epoch": record.first_epoch,
                "epochs_trained": len(record.history),
                "loss": final.loss if final else "",
                "train_acc": final.train_acc if final else "",
                "test_acc": final.test_acc if final else "",
                "duration_s": record.duration_s,
                "ended_at": record.ended_at,
                "source": record.source,
            }
        )
    return out.getvalue()
