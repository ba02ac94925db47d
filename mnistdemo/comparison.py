"""Comparing runs: what sets each apart (a chart's legend), the table of runs, the curves to overlay.

Pure functions of `RunRecord`s: the page lays them out, `charts` draws them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .config import TrainConfig
from .runs import RunRecord
from .wording import format_duration, format_setting

SEPARATOR = " · "


def differing_settings(records: Sequence[RunRecord]) -> list[str]:
    """The settings, in the order people read them, on which the runs do not all agree."""
    return [name for name in TrainConfig.names() if len({getattr(record.config, name) for record in records}) > 1]


def setting_text(name: str, value: object) -> str:
    """'batch 64', 'lr 1e-3', 'augment on', or the value alone when it names itself ('zoo')."""
    short = TrainConfig.short_label(name)
    return f"{short} {format_setting(value)}" if short else format_setting(value)


def run_labels(records: Sequence[RunRecord]) -> dict[int, str]:
    """Run number -> its legend: only the settings that differ among `records` ('lr 1e-3 · batch 64'),
    with the run's number where that alone would not tell runs apart."""
    names = differing_settings(records)
    labels = {
        record.number: SEPARATOR.join(setting_text(name, getattr(record.config, name)) for name in names)
        for record in records
    }
    counts = Counter(labels.values())
    return {
        number: label if label and counts[label] == 1 else SEPARATOR.join(filter(None, [f"run {number}", label]))
        for number, label in labels.items()
    }


def epochs_text(record: RunRecord) -> str:
    """The model's epochs the run trained: '5', '1–4', or '–' when none finished."""
    if not record.history:
        return "–"
    first, last = record.history[0].epoch, record.history[-1].epoch
    return str(last) if first == last else f"{first}–{last}"


def table_rows(records: Sequence[RunRecord]) -> list[dict[str, object]]:
    """One row per run, as the page's table shows it."""
    rows = []
    for record in records:
        final = record.final
        config = record.config
        rows.append(
            {
                "run": record.number,
                "outcome": record.outcome,
                "model": config.model,
                "epochs": epochs_text(record),
                "batch size": config.batch_size,
                "learning rate": format_setting(config.lr),
                "seed": config.seed,
                "augment": format_setting(config.augment),
                "test acc (%)": final.test_acc if final else None,
                "train acc (%)": final.train_acc if final else None,
                "loss": final.loss if final else None,
                "duration": format_duration(record.duration_s),
                "source": record.source,
            }
        )
    return rows


def loss_series(records: Sequence[RunRecord]) -> list[tuple[str, list[float], list[float]]]:
    """(legend, epochs, smoothed batch loss) per run."""
    labels = run_labels(records)
    return [
        (labels[r.number], [x for x, _ in r.loss_curve], [y for _, y in r.loss_curve]) for r in records if r.loss_curve
    ]


def accuracy_series(records: Sequence[RunRecord]) -> list[tuple[str, list[float], list[float]]]:
    """(legend, epochs, test accuracy) per run that finished an epoch."""
    labels = run_labels(records)
    return [
        (labels[r.number], [e.epoch for e in r.history], [e.test_acc for e in r.history]) for r in records if r.history
    ]
