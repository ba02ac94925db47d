"""Training: the notebook's loop (Adam, shuffled mini-batches, per-epoch loss and accuracies).

The engine knows nothing of any user interface. It reports through callbacks, stops between
batches when asked, and resumes exactly where it stopped: a run stopped and resumed ends with the
same weights as one that was never interrupted.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .augment import augment_batch
from .config import TrainConfig
from .data import MnistData
from .models import build_model

EVAL_CHUNK = 256  # cache-sized chunks: a CNN evaluates them much faster than 10,000 digits at once


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


def crossentropy(log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Flux.crossentropy on probabilities: the mean of -log p[label]."""
    return F.nll_loss(log_probs, labels)


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
        self._order: torch.Tensor | None = None  # this epoch's shuffle, while one is under way
        self._position = 0  # samples of this epoch already trained on

    def update(self, config: TrainConfig) -> None:
        """Take new hyperparameters for the next batches; new weights (another preset or seed) need `reset`."""
        if self.config.needs_new_weights(config):
            raise ValueError("a different model or seed needs a reset")
        self.config = config
        for group in self.optimizer.param_groups:
            group["lr"] = config.lr

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
        """
        completed = []
        for _ in range(self.config.epochs if epochs is None else epochs):
            if not self._train_epoch(on_batch, stop):
                break
            completed.append(self._finish_epoch())
            if on_epoch:
                on_epoch(completed[-1])
        return completed

    def _train_epoch(self, on_batch: Callable[[BatchReport], None] | None, stop: threading.Event | None) -> bool:
        """Train until the epoch ends (True) or `stop` is set (False)."""
        started = time.perf_counter()
        samples = len(self.train_images)
        if self._order is None:
            self._order = torch.randperm(samples, device=self.device, generator=self.generator)
            self._position = 0
        batch_size = self.config.batch_size
        batches = -(-samples // batch_size)
        self.model.train()
        try:
            while self._position < samples:
                if stop is not None and stop.is_set():
                    return False
                index = self._order[self._position : self._position + batch_size]
                images = self.train_images[index]
                if self.config.augment:
                    images = augment_batch(images, self.generator)
                loss = crossentropy(self.model(images), self.train_labels[index])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self._position += len(index)
                if on_batch:
                    batch = -(-self._position // batch_size)
                    on_batch(BatchReport(self.epochs_done + 1, batch, batches, loss.item()))
            return True
        finally:
            self.elapsed_s += time.perf_counter() - started

    def _finish_epoch(self) -> EpochResult:
        started = time.perf_counter()
        self._order = None
        loss, train_acc = evaluate(self.model, self.train_images, self.train_labels)
        _, test_acc = evaluate(self.model, self.test_images, self.test_labels)
        self.elapsed_s += time.perf_counter() - started
        result = EpochResult(
            self.epochs_done + 1, round(loss, 4), round(train_acc, 2), round(test_acc, 2), round(self.elapsed_s, 3)
        )
        self.history.append(result)
        return result
