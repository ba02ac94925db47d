"""Training: the notebook's loop (Adam, shuffled mini-batches, per-epoch loss and accuracies).

The engine knows nothing of any user interface. It reports through callbacks, stops between
batches when asked, and resumes exactly where it stopped: a run stopped and resumed ends with the
same weights as one that was never interrupted.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .augment import augment_batch
from .config import TrainConfig
from .data import MnistData
from .models import build_model, preset

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
        self.elapsed_s += time.perf_counter() - started
        result = EpochResult(
            self.epochs_done + 1, round(loss, 4), round(train_acc, 2), round(test_acc, 2), round(self.elapsed_s, 3)
        )
        self.history.append(result)
        return result
