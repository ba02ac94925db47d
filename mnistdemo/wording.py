"""Wording: what the page says about a training job, as pure functions of its snapshot.

Every sentence and number the page shows about training is made here, so that it can be tested
without a browser and the page code only lays it out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .cluster import ClusterState, ClusterStatus
from .config import TrainConfig
from .divergence import Trouble
from .jobs import JobSnapshot, JobState, Placement


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


def epochs(count: int) -> str:
    """A count of epochs in words: 1 epoch, 2 epochs."""
    return f"{count} epoch{'s' if count != 1 else ''}"


def model_status(snapshot: JobSnapshot) -> str:
    """'seed model, untrained' or 'seed model, trained 30 epochs, test accuracy 92.41 %'."""
    name = f"**{snapshot.config.model}** model"
    if not snapshot.history:
        return f"{name}, untrained"
    return f"{name}, trained {epochs(snapshot.epochs_done)}, test accuracy **{snapshot.history[-1].test_acc:.2f} %**"


def epoch_mean_loss(batch_losses: np.ndarray, epoch: int) -> float | None:
    """Mean loss of the batches trained so far in `epoch` (1-based), or None before its first batch.

    `batch_losses` holds (fractional epoch, loss) rows in training order; a batch at fractional
    epoch x belongs to epoch ceil(x), so the last batch of epoch 1 sits at 1.0.
    """
    x = batch_losses[:, 0]
    first, end = np.searchsorted(x, [epoch - 1, epoch], side="right")
    return float(batch_losses[first:end, 1].mean()) if end > first else None


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def waiting_label(placement: Placement) -> str:
    """What a waiting run waits for, in a few words."""
    if not placement.cluster:
        return "Waiting for a free training slot…"
    if placement.queue_place:
        place = f"{ordinal(placement.queue_place)} of {placement.queue_length}"
        return f"Waiting for room on the Ray cluster: {place} in the queue…"
    return "Starting on the Ray cluster…"


def cluster_notice(status: ClusterStatus | None) -> Notice | None:
    """Where this server's runs train, when a Ray cluster was asked for (None when it was not)."""
    if status is None:
        return None
    where = f"the Ray cluster at `{status.address}`"
    if status.state == ClusterState.CONNECTING:
        return Notice("info", f"Connecting to {where}…")
    if status.state == ClusterState.CONNECTED:
        return Notice("info", f"Training runs on {where} ({status.detail}).")
    went = "cannot be reached" if status.state == ClusterState.UNREACHABLE else "went away"
    return Notice(
        "warning", f"{where[0].upper()}{where[1:]} {went} ({status.detail}). Training runs on this server meanwhile."
    )


def progress_label(snapshot: JobSnapshot) -> str:
    """The line on the progress bar: where the run is, the loss of this epoch so far, the time left."""
    if snapshot.state == JobState.WAITING:
        return waiting_label(snapshot.placement)
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
    if state == JobState.WAITING and snapshot.placement.cluster:
        placement = snapshot.placement
        if not placement.queue_place:
            return Notice("info", f"Starting your run on the Ray cluster at `{placement.cluster}`…")
        return Notice(
            "warning",
            f"Waiting for room on the Ray cluster at `{placement.cluster}`: your run is "
            f"**{ordinal(placement.queue_place)}** of {placement.queue_length} in the queue. "
            "It starts by itself as soon as a run ends.",
        )
    if state == JobState.WAITING:
        return Notice(
            "warning",
            f"Waiting for a free training slot: this server trains at most {training_slots} models at once. "
            "Your run starts by itself as soon as one finishes.",
        )
    if state == JobState.RUNNING:
        node = snapshot.placement.node
        where = f" on the Ray cluster ({node})" if node else ""
        return Notice(
            "info", f"Training {epochs(snapshot.run_epochs)}{where}…{run_duration(snapshot)} The charts move live."
        )
    if state == JobState.FAILED:
        return Notice("error", f"{snapshot.message[:1].upper()}{snapshot.message[1:]}.")
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
        node = snapshot.placement.node
        where = f" on the Ray cluster ({node})" if node else ""
        return Notice(
            "warning" if snapshot.trouble else "success",
            f"Training finished{where}: {epochs(snapshot.run_epochs_done)} in this run, {epochs(last.epoch)} in all, "
            f"{format_duration(last.elapsed_s)} of training. {numbers}.",
        )
    # only STOPPED is left: a reset (IDLE) empties the history
    return Notice(
        "info",
        f"{snapshot.message.capitalize()} after {epochs(last.epoch)}: {numbers}. "
        "**Train** continues from here; **Reset** starts over.",
    )


def run_duration(snapshot: JobSnapshot) -> str:
    """' About 3 min 20 s in all, 2 min 50 s left.' once the first batches tell; else nothing."""
    if snapshot.eta_s is None:
        return ""
    total = format_duration(snapshot.run_elapsed_s + snapshot.eta_s)
    return f" About {total} in all, {format_duration(snapshot.eta_s)} left."


def _rate_in_the_page(lr: float) -> str:
    return f"learning rate {format_learning_rate(lr)}"


def trouble_sentence(trouble: Trouble, batch_size: int, rate: Callable[[float], str] = _rate_in_the_page) -> str:
    """What is wrong and what to try, in a sentence without its full stop; `rate` names a learning
    rate ("--lr 0.0003" on the command line)."""
    if trouble.too_high:
        return f"the learning rate is too high ({rate(trouble.lr)}): {trouble.what}; try {rate(trouble.suggested_lr)}"
    options = [rate(trouble.suggested_lr)] if trouble.suggested_lr else []
    options += ["a smaller batch size", "more epochs"]
    return (
        f"the model is learning too slowly ({rate(trouble.lr)}, batch size {batch_size}): {trouble.what}; "
        f"try {', '.join(options[:-1])} or {options[-1]}"
    )


def trouble_notice(snapshot: JobSnapshot) -> str | None:
    """Why the model is not learning and what to change, shown beside the charts; None when it learns."""
    trouble = snapshot.trouble
    if trouble is None:
        return None
    sentence = trouble_sentence(trouble, snapshot.config.batch_size)
    then = (
        "Choose it in the sidebar, press **Reset** (these weights may be past saving), then **Train**."
        if trouble.too_high
        else "Change the settings in the sidebar and press **Train**: training goes on from these weights."
    )
    return f"**{sentence[:1].upper()}{sentence[1:]}.** {then}"


def loaded_notice(snapshot: JobSnapshot) -> str:
    """What a loaded model is: where from, how trained, and that Train continues it."""
    if snapshot.history:
        last = snapshot.history[-1]
        trained = f"trained {epochs(last.epoch)}, test accuracy **{last.test_acc:.2f} %**"
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
    return f"Guesses of the model after {epochs(snapshot.epochs_done)} (test accuracy {accuracy:.2f} %)."


def weights_caption(snapshot: JobSnapshot, epoch: int | None) -> str:
    """Whose answers the page shows: the newest weights (`epoch` None) or those kept after `epoch`."""
    if epoch is None:
        return predictions_caption(snapshot)
    if epoch == 0:
        return "Guesses of the untrained model (epoch 0: random weights)."
    accuracy = next(result.test_acc for result in snapshot.history if result.epoch == epoch)
    text = f"Guesses of the model after epoch {epoch} of {snapshot.epochs_done} (test accuracy {accuracy:.2f} %)."
    return text if epoch == snapshot.epochs_done else f"{text} Slide to the end for the newest."
