"""Status: what the page says about a training job, as pure functions of its snapshot.

Every sentence and number the page shows about training is made here, so that it can be tested
without a browser and the page code only lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .jobs import JobSnapshot, JobState
from .training import TrainConfig

# The sidebar's choices: up to 100 epochs, powers of two, and learning rates 1, 2, 3, 5 per decade.
MAX_EPOCHS = 100
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
LEARNING_RATES = (
    1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 5e-2, 1e-1,
)  # fmt: skip


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


def epoch_mean_loss(batch_losses: Sequence[tuple[float, float]], epoch: int) -> float | None:
    """Mean loss of the batches trained so far in `epoch` (1-based), or None before its first batch.

    `batch_losses` are in training order, so only the batches from the end back to `epoch` are read:
    the page asks at every poll, and a long run has tens of thousands of batches.
    """
    if epoch < 1:
        return None
    losses = []
    for x, loss in reversed(batch_losses):
        # a batch at fractional epoch x belongs to epoch ceil(x): the last batch of epoch 1 sits at 1.0
        if x <= epoch - 1:
            break
        if x <= epoch:
            losses.append(loss)
    return sum(losses) / len(losses) if losses else None


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
        return [("Epochs trained", "0", None), ("Loss", "–", None), ("Train accuracy", "–", None),
                ("Test accuracy", "–", None)]  # fmt: skip
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
    if state == JobState.STOPPED:
        return Notice(
            "info",
            f"{snapshot.message.capitalize()} after {_epochs(last.epoch)}: {numbers}. "
            "**Train** continues from here; **Reset** starts over.",
        )
    return Notice("info", f"Trained {_epochs(last.epoch)}: {numbers}.")  # IDLE with a history does not happen today


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


# (TrainConfig field, how the page names it, how it shows a value)
SETTING_NAMES = (
    ("model", "model", str),
    ("seed", "random seed", str),
    ("epochs", "epochs", str),
    ("batch_size", "batch size", str),
    ("lr", "learning rate", format_learning_rate),
    ("augment", "augmentation", _on_off),
)


def pending_changes(current: TrainConfig, chosen: TrainConfig) -> list[str]:
    """How the sidebar's settings differ from those of the model now, as short phrases."""
    return [
        f"{name} {show(getattr(current, field))} → {show(getattr(chosen, field))}"
        for field, name, show in SETTING_NAMES
        if getattr(current, field) != getattr(chosen, field)
    ]


def pending_notice(snapshot: JobSnapshot, chosen: TrainConfig) -> str | None:
    """One sentence when the sidebar differs from the model's settings: they apply to the next run."""
    changes = pending_changes(snapshot.config, chosen)
    if not changes:
        return None
    when = "the next run (this one keeps its settings)" if snapshot.active else "the next run"
    restart = (chosen.model, chosen.seed) != (snapshot.config.model, snapshot.config.seed)
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
