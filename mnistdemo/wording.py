"""Wording: what the page says about a training job, as pure functions of its snapshot.

Every sentence and number the page shows about training is made here, so that it can be tested
without a browser and the page code only lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import TrainConfig
from .jobs import JobSnapshot, JobState


@dataclass(frozen=True)
class Notice:
    kind: str  # "success", "info", "warning" or "error": how loudly to show it
    text: str


def format_learning_rate(lr: float) -> str:
    """3e-4 rather than 0.0003 or 3e-04."""
    mantissa, exponent = f"{lr:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def format_duration(seconds: float) -> str:
    """'7 s', '2 min 05 s'."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def _epochs(count: int) -> str:
    return f"{count} epoch{'s' if count != 1 else ''}"


def model_status(snapshot: JobSnapshot) -> str:
    """'seed model, untrained' or 'seed model, trained 30 epochs, test accuracy 92.41 %'."""
    name = f"**{snapshot.config.model}** model"
    if not snapshot.history:
        return f"{name}, untrained"
    return f"{name}, trained {_epochs(snapshot.epochs_done)}, test accuracy **{snapshot.history[-1].test_acc:.2f} %**"


def epoch_mean_loss(batch_losses: np.ndarray, epoch: int) -> float | None:
    """Mean loss of the batches trained so far in `epoch` (1-based), or None before its first batch.

    `batch_losses` holds (fractional epoch, loss) rows in training order; a batch at fractional
    epoch x belongs to epoch ceil(x), so the last batch of epoch 1 sits at 1.0.
    """
    x = batch_losses[:, 0]
    first, end = np.searchsorted(x, [epoch - 1, epoch], side="right")
    return float(batch_losses[first:end, 1].mean()) if end > first else None


def progress_label(snapshot: JobSnapshot) -> str:
    """The line on the progress bar: where the run is, the loss of this epoch so far, the time left."""
    if snapshot.state == JobState.WAITING:
        return "Waiting for a free training slot…"
    if not snapshot.batches:
        return "Starting…"
    # the epoch under way, counted within this run (history holds the epochs of earlier runs too);
    # between an epoch's last batch and its evaluation, that epoch is still the one shown
    run_epoch = snapshot.epoch - (snapshot.epochs_done - snapshot.run_epochs_done)
    parts = [f"Epoch {run_epoch} of {snapshot.run_epochs}", f"batch {snapshot.batch} of {snapshot.batches}"]
    if snapshot.epoch != run_epoch:  # a continued run: say which epoch of the model's life
        parts[0] += f" (epoch {snapshot.epoch} of this model)"
    mean_loss = epoch_mean_loss(snapshot.batch_losses, snapshot.epoch)
    if mean_loss is not None:
        parts.append(f"mean loss {mean_loss:.3f}")
    if snapshot.history:
        parts.append(f"train {snapshot.history[-1].train_acc:.2f} %, test {snapshot.history[-1].test_acc:.2f} %")
    if snapshot.eta_s is not None:
        parts.append(f"about {format_duration(snapshot.eta_s)} left")
    return " · ".join(parts)


def epoch_metrics(snapshot: JobSnapshot) -> list[tuple[str, str, str | None]]:
    """(label, value, change since the previous epoch) for the latest finished epoch."""
    history = snapshot.history
    if not history:
        return [("Epochs trained", "0", None)] + [
            (label, "–", None) for label in ("Loss", "Train accuracy", "Test accuracy")
        ]
    last = history[-1]
    before = history[-2] if len(history) > 1 else None

    def change(now: float, then: float | None, unit: str, digits: int) -> str | None:
        return None if then is None else f"{now - then:+.{digits}f}{unit}"

    return [
        ("Epochs trained", str(last.epoch), None),
        ("Loss", f"{last.loss:.4f}", change(last.loss, before and before.loss, "", 4)),
        ("Train accuracy", f"{last.train_acc:.2f} %", change(last.train_acc, before and before.train_acc, " %", 2)),
        ("Test accuracy", f"{last.test_acc:.2f} %", change(last.test_acc, before and before.test_acc, " %", 2)),
    ]


def run_notice(snapshot: JobSnapshot, training_slots: int) -> Notice:
    """What to say about the run as a whole: waiting, running, or how it ended."""
    state = snapshot.state
    if state == JobState.WAITING:
        return Notice(
            "warning",
            f"Waiting for a free training slot: this server trains at most {training_slots} models at once. "
            "Your run starts by itself as soon as one finishes.",
        )
    if state == JobState.RUNNING:
        return Notice("info", f"Training {_epochs(snapshot.run_epochs)}… the charts update live.")
    if state == JobState.FAILED:
        return Notice("error", snapshot.message)
    if state == JobState.LOADED:
        return Notice("info", loaded_notice(snapshot))
    if not snapshot.history:
        if state == JobState.STOPPED:
            return Notice(
                "info", f"{snapshot.message.capitalize()}. No epoch has finished yet; **Train** continues from here."
            )
        return Notice("info", "Untrained: press **Train** in the sidebar to start.")
    last = snapshot.history[-1]
    numbers = f"test accuracy **{last.test_acc:.2f} %**, train accuracy {last.train_acc:.2f} %, loss {last.loss:.4f}"
    if state == JobState.FINISHED:
        return Notice(
            "success",
            f"Training finished: {_epochs(snapshot.run_epochs_done)} in this run, {_epochs(last.epoch)} in all, "
            f"{format_duration(last.elapsed_s)} of training. {numbers}.",
        )
    # only STOPPED is left: a reset (IDLE) empties the history
    return Notice(
        "info",
        f"{snapshot.message.capitalize()} after {_epochs(last.epoch)}: {numbers}. "
        "**Train** continues from here; **Reset** starts over.",
    )


def loaded_notice(snapshot: JobSnapshot) -> str:
    """What a loaded model is: where from, how trained, and that Train continues it."""
    if snapshot.history:
        last = snapshot.history[-1]
        trained = f"trained {_epochs(last.epoch)}, test accuracy **{last.test_acc:.2f} %**"
    else:
        trained = "untrained"
    return f"Loaded **{snapshot.message}** ({snapshot.config.model}, {trained}). **Train** continues from here."


def format_setting(value: object) -> str:
    """A setting's value as the page shows it: on/off, 3e-4, or as it is."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return format_learning_rate(value)
    return str(value)


def pending_changes(current: TrainConfig, chosen: TrainConfig) -> list[str]:
    """How the sidebar's settings differ from those of the model now, as short phrases."""
    return [
        f"{TrainConfig.label(name)} {format_setting(getattr(current, name))} → {format_setting(getattr(chosen, name))}"
        for name in TrainConfig.names()
        if getattr(current, name) != getattr(chosen, name)
    ]


def pending_notice(snapshot: JobSnapshot, chosen: TrainConfig) -> str | None:
    """One sentence when the sidebar differs from the model's settings: they apply to the next run."""
    changes = pending_changes(snapshot.config, chosen)
    if not changes:
        return None
    when = "the next run (this one keeps its settings)" if snapshot.active else "the next run"
    restart = snapshot.config.needs_new_weights(chosen)
    how = " **Train** will start over from new weights." if restart else ""
    return f"Changed settings apply to {when}: {', '.join(changes)}.{how}"


def predictions_caption(snapshot: JobSnapshot) -> str:
    """Whose guesses the test digits show."""
    if snapshot.active:
        return "Guesses of the model as it trains: they refresh whenever you browse."
    if not snapshot.history:
        return "Guesses of the untrained model (random weights), as in the notebook: press **Train** and look again."
    accuracy = snapshot.history[-1].test_acc
    return f"Guesses of the model after {_epochs(snapshot.epochs_done)} (test accuracy {accuracy:.2f} %)."
