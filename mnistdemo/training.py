"""Training: the notebook's loop (Adam, shuffled mini-batches, per-epoch loss and accuracies).

The engine knows nothing of any user interface. It reports through callbacks, stops between
batches when asked, and resumes exactly where it stopped: a run stopped and resumed ends with the
same weights as one that was never interrupted.
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .augment import augment_batch
from .config import TrainConfig
from .data import MnistData
from .models import build_model, preset

EVAL_CHUNK = 256  # cache-sized chunks: a CNN evaluates them much faster than 10,000 digits at once
DATA = frozenset({"device", "train_images", "train_labels", "test_images", "test_labels"})  # a Trainer's, not its run's
STATEFUL = frozenset({"model", "optimizer", "generator"})  # carried as their own state


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    loss: float  # mean cross-entropy over the whole training set after the epoch
    train_acc: float  # percent, 2 decimals
    test_acc: float  # percent, 2 decimals
    elapsed_s: float  # training time since the model was created, evaluation included

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BatchReport:
    epoch: int  # 1-based epoch this batch belongs to
    batch: int  # 1-based batch index within the epoch
    batches: int  # batches in this epoch
    loss: float


class Diverged(ArithmeticError):
    """A batch's loss or gradient was nan or infinite; its step was not taken, so the weights are
    the last finite ones."""

    def __init__(self, epoch: int, batch: int, quantity: str, value: float):
        super().__init__(f"the {quantity} became {value} in epoch {epoch}, batch {batch}")
        self.epoch, self.batch, self.quantity, self.value = epoch, batch, quantity, value

    def __reduce__(self) -> tuple:  # pickled whole: a run on a cluster raises it at home too
        return Diverged, (self.epoch, self.batch, self.quantity, self.value)


class TrainingOutOfMemory(MemoryError):
    """The device ran out of memory for a batch; the weights are those from before it."""


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA's OutOfMemoryError, Python's MemoryError, or a torch allocator's RuntimeError (CPU, MPS)."""
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and any(
        words in text for words in ("can't allocate memory", "not enough memory", "out of memory")
    )


def default_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def use_one_cpu_thread(device: torch.device) -> None:
    """Train on one CPU thread (process-wide; README, "Training speed").

    torch's OpenMP workers spin-wait at every parallel op: on a small shared machine one descheduled
    worker stalls the others, while one thread loses little and never stalls. Entry points call this.
    """
    if device.type == "cpu":
        torch.set_num_threads(1)


def crossentropy(log_probs: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Flux.crossentropy on probabilities: the mean of -log p[label]. With label smoothing, against
    targets that give `label_smoothing` of their weight evenly to all ten digits (as torch's cross_entropy)."""
    loss = F.nll_loss(log_probs, labels)
    if label_smoothing:
        loss = (1 - label_smoothing) * loss - label_smoothing * log_probs.mean(dim=1).mean()
    return loss


def one_cycle_lr(peak: float, progress: float) -> float:
    """The learning rate `progress` (0..1) through a run under the one-cycle policy with the defaults
    of torch's OneCycleLR: from peak/25 up to the peak over the first 30%, then down to peak/25e4,
    each along half a cosine. A function of the position alone, so a stopped run resumes exactly."""
    warm_up = 0.3
    if progress < warm_up:
        return _half_cosine(peak / 25, peak, progress / warm_up)
    return _half_cosine(peak, peak / 25e4, (progress - warm_up) / (1 - warm_up))


def _half_cosine(start: float, end: float, fraction: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2


def on_cpu(value: Any) -> Any:
    """A copy of `value` (dicts, lists, tuples of tensors and plain values) with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: on_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(on_cpu(item) for item in value)
    return copy.deepcopy(value)


def restore_optimizer(model: torch.nn.Module, lr: float, saved: dict | None) -> torch.optim.Adam:
    """Adam for `model`, with the moments of a saved `optimizer.state_dict()` when there is one (copied:
    the saved one stays as it was); ValueError when they do not fit the model."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if saved is None:
        return optimizer
    try:
        optimizer.load_state_dict(copy.deepcopy(saved))
        for parameter in model.parameters():
            moments = optimizer.state.get(parameter, {})
            if any(moments[k].shape != parameter.shape for k in ("exp_avg", "exp_avg_sq") if k in moments):
                raise ValueError("moments of other shapes")
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError) as error:
        raise ValueError(f"its optimizer state does not fit the model ({error})") from None
    for group in optimizer.param_groups:
        group["lr"] = lr
    return optimizer


def restore_generator(generator: torch.Generator, saved: dict | None) -> None:
    """Continue a saved shuffling generator's sequence, when it was saved on this kind of device (a
    model trained on a GPU at home continues on a laptop's CPU with a fresh sequence)."""
    if saved is None or saved.get("device") != generator.device.type:
        return
    try:
        generator.set_state(saved["state"].clone())
    except (KeyError, TypeError, AttributeError, RuntimeError) as error:
        raise ValueError(f"its random-generator state is damaged ({error})") from None


@torch.no_grad()
def evaluate(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean loss and accuracy in percent over a whole split."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(images), EVAL_CHUNK):
        log_probs = model(images[start : start + EVAL_CHUNK])
        target = labels[start : start + EVAL_CHUNK]
        loss_sum += F.nll_loss(log_probs, target, reduction="sum").item()
        correct += (log_probs.argmax(dim=1) == target).sum().item()
    model.train(was_training)
    return loss_sum / len(images), 100.0 * correct / len(images)


class Trainer:
    """One model, its optimizer and its history, trained on resident tensors.

    Not thread-safe by itself: one thread runs it at a time (see `mnistdemo.jobs`).
    """

    def __init__(self, data: MnistData, config: TrainConfig = TrainConfig(), device: torch.device | None = None):
        self.device = device or default_device()
        self.train_images = data.train_images.to(self.device)
        self.train_labels = data.train_labels.to(self.device)
        self.test_images = data.test_images.to(self.device)
        self.test_labels = data.test_labels.to(self.device)
        self.reset(config)

    def reset(self, config: TrainConfig | None = None) -> None:
        """New random weights (from the config's seed), a new optimizer and an empty history."""
        self.config = config or self.config
        self.model = build_model(self.config.model, torch.Generator().manual_seed(self.config.seed)).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr)
        self.generator = torch.Generator(device=self.device).manual_seed(self.config.seed)
        self.history: list[EpochResult] = []
        self.elapsed_s = 0.0
        self.evaluation_s: float | None = None  # what the last end-of-epoch evaluation took
        self._order: torch.Tensor | None = None  # this epoch's shuffle, while one is under way
        self._position = 0  # samples of this epoch already trained on

    def update(self, config: TrainConfig) -> None:
        """Take new hyperparameters for the next batches; new weights (another preset or seed) need `reset`."""
        if self.config.needs_new_weights(config):
            raise ValueError("a different model or seed needs a reset")
        self.config = config
        for group in self.optimizer.param_groups:
            group["lr"] = config.lr

    def state(self) -> dict[str, Any]:
        """Everything training changes (every attribute but the data), copied onto the CPU: a Trainer on
        the same data that `load_state`s it trains on exactly as this one would. How a run goes to a
        cluster and comes back."""
        plain = {name: value for name, value in vars(self).items() if name not in DATA | STATEFUL}
        return on_cpu(plain | {"model": self.model.state_dict()} | self.training_state())

    def load_state(self, state: dict[str, Any]) -> None:
        """Carry on from another Trainer's `state()`. Its shuffling continues only from a generator of
        this kind of device (a CUDA generator's state does not fit a CPU one): else from the seed."""
        self.reset(state["config"])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        restore_generator(self.generator, state["generator"])
        for name, value in state.items():
            if name not in STATEFUL:
                setattr(self, name, value.to(self.device) if isinstance(value, torch.Tensor) else copy.deepcopy(value))

    def training_state(self) -> dict:
        """Beyond the weights, what training on exactly where it stopped needs: Adam's moments and the
        shuffling generator's state (for checkpoints; live references, to be saved at once)."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "generator": {"device": self.device.type, "state": self.generator.get_state()},
        }

    def restore(
        self, weights: dict, config: TrainConfig, history: list[EpochResult], training: dict | None = None
    ) -> None:
        """Take a saved model's weights, settings, history and training state: Train continues from there.

        Everything is checked before anything changes, so a state that does not fit raises ValueError
        and leaves this trainer as it was."""
        model = build_model(config.model).to(self.device)
        try:
            model.load_state_dict(weights)
        except RuntimeError as error:
            raise ValueError(f"its weights do not fit the {config.model} model ({error})") from None
        optimizer = restore_optimizer(model, config.lr, training and training.get("optimizer"))
        generator = torch.Generator(device=self.device).manual_seed(config.seed)
        restore_generator(generator, training and training.get("generator"))
        self.reset(config)
        self.model, self.optimizer, self.generator = model, optimizer, generator
        self.history = list(history)
        self.elapsed_s = history[-1].elapsed_s if history else 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def epoch_in_progress(self) -> bool:
        return self._order is not None

    def run(
        self,
        epochs: int | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
        on_epoch: Callable[[EpochResult], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[EpochResult]:
        """Train `epochs` more epochs (a stopped epoch, finished first, counts as one).

        Returns the epochs completed in this call; returns early, between batches, once `stop` is set.
        Raises Diverged when a batch's loss or gradient is not a number, and TrainingOutOfMemory when the
        device has no room for a batch; either way before that batch's step, and `run` continues from it.
        """
        completed = []
        for _ in range(self.config.epochs if epochs is None else epochs):
            with self._out_of_memory_said_plainly():
                if not self._train_epoch(on_batch, stop):
                    break
                completed.append(self._finish_epoch())
            if on_epoch:
                on_epoch(completed[-1])
        return completed

    @contextlib.contextmanager
    def _out_of_memory_said_plainly(self) -> Iterator[None]:
        """Any of the ways a device says it is out of memory becomes TrainingOutOfMemory, saying what to change."""
        try:
            yield
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            raise TrainingOutOfMemory(
                f"out of memory training the {self.config.model} model with batch size {self.config.batch_size} "
                f"on {self.device.type}: choose a smaller batch size"
            ) from None

    def estimated_evaluation_s(self) -> float:
        """What the end-of-epoch evaluation takes: as it last took, else timed on one chunk of test digits."""
        if self.evaluation_s is not None:
            return self.evaluation_s
        chunk = self.test_images[:EVAL_CHUNK], self.test_labels[:EVAL_CHUNK]
        with self._out_of_memory_said_plainly():
            evaluate(self.model, *chunk)  # the first pass also sets up the kernels
            started = time.perf_counter()
            evaluate(self.model, *chunk)
        chunks = (len(self.train_images) + len(self.test_images)) / len(chunk[0])
        return (time.perf_counter() - started) * chunks

    def _train_epoch(self, on_batch: Callable[[BatchReport], None] | None, stop: threading.Event | None) -> bool:
        """Train until the epoch ends (True) or `stop` is set (False)."""
        started = time.perf_counter()
        samples = len(self.train_images)
        if self._order is None:
            self._order = torch.randperm(samples, device=self.device, generator=self.generator)
            self._position = 0
        batch_size = self.config.batch_size
        batches = -(-samples // batch_size)
        spec = preset(self.config.model)
        self.model.train()
        try:
            while self._position < samples:
                if stop is not None and stop.is_set():
                    return False
                index = self._order[self._position : self._position + batch_size]
                images = self.train_images[index]
                if self.config.augment:
                    images = augment_batch(images, self.generator, spec.augmentation)
                if spec.one_cycle:
                    self._follow_one_cycle(samples)
                loss = crossentropy(self.model(images), self.train_labels[index], spec.label_smoothing)
                batch = -(-(self._position + len(index)) // batch_size)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    raise Diverged(self.epochs_done + 1, batch, "loss", loss_value)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                # a finite loss can still have a nan gradient (a saturated unit times an infinity)
                gradient = torch.nn.utils.get_total_norm([p.grad for p in self.model.parameters()]).item()
                if not math.isfinite(gradient):  # before the step: the weights stay finite
                    raise Diverged(self.epochs_done + 1, batch, "gradient", gradient)
                self.optimizer.step()
                self._position += len(index)
                if on_batch:
                    on_batch(BatchReport(self.epochs_done + 1, batch, batches, loss_value))
            return True
        finally:
            self.elapsed_s += time.perf_counter() - started

    def _follow_one_cycle(self, samples: int) -> None:
        """Set this batch's learning rate: each run of `epochs` epochs is one cycle."""
        epochs = self.config.epochs
        progress = ((self.epochs_done % epochs) * samples + self._position) / (epochs * samples)
        for group in self.optimizer.param_groups:
            group["lr"] = one_cycle_lr(self.config.lr, progress)

    def _finish_epoch(self) -> EpochResult:
        started = time.perf_counter()
        self._order = None
        loss, train_acc = evaluate(self.model, self.train_images, self.train_labels)
        _, test_acc = evaluate(self.model, self.test_images, self.test_labels)
        self.evaluation_s = time.perf_counter() - started
        self.elapsed_s += self.evaluation_s
        result = EpochResult(
            self.epochs_done + 1, round(loss, 4), round(train_acc, 2), round(test_acc, 2), round(self.elapsed_s, 3)
        )
        self.history.append(result)
        return result


@dataclass
class RunClock:
    """How long the rest of a run will take, from its batches so far and what an evaluation costs.

    Training time per batch is measured (wall time less the evaluations); each epoch still to come
    adds its batches and one evaluation. Call `batch_done` after every batch, `epoch_done` after
    every epoch.
    """

    epochs: int  # epochs this run trains
    evaluation_s: float  # what one end-of-epoch evaluation takes
    started: float = field(default_factory=time.perf_counter)
    batches_done: int = 0
    epochs_done: int = 0
    _evaluations_s: float = 0.0  # spent evaluating so far

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def batch_done(self, report: BatchReport) -> float:
        """Seconds left after the batch `report` describes."""
        self.batches_done += 1
        per_batch = max(0.0, self.elapsed_s - self._evaluations_s) / self.batches_done
        batches_left = report.batches - report.batch + (self.epochs - self.epochs_done - 1) * report.batches
        return batches_left * per_batch + (self.epochs - self.epochs_done) * self.evaluation_s

    def epoch_done(self, evaluation_s: float) -> None:
        self.epochs_done += 1
        self._evaluations_s += evaluation_s
        self.evaluation_s = evaluation_s
