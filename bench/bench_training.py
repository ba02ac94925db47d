"""Benchmark our training engine against the loop a PyTorch user writes first, in the same run.

(a) the tutorial loop: torchvision's datasets.MNIST with transforms.ToTensor, DataLoader(batch_size=256,
    shuffle=True), the same seed model, Adam, nll_loss on its log-probabilities, and after each epoch
    the loss and accuracy of both splits, evaluated through DataLoaders too;
(b) mnistdemo's Trainer (resident tensors, the same model, optimizer, batch size and evaluation),
    with torch.set_num_threads(1), (2) and torch's default, on the device the app would pick
    (or --device).

Prints a markdown table: seconds per epoch of each, our speed-up (target: >= 20x) and the time of
the notebook's 30 seed epochs on our engine (target: about 15 s or less).

Run from the repository root:
    .venv/bin/python -m bench.bench_training [--data-dir DIR] [--tutorial-epochs 1] [--epochs 30] [--device cpu]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo (see `python -m mnistdemo data`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from mnistdemo.config import TrainConfig
from mnistdemo.data import DataError, load_mnist, resolve_data_dir
from mnistdemo.models import build_model
from mnistdemo.training import Trainer, default_device

TARGET_SPEEDUP = 20
TARGET_SEED_RUN_S = 15


@dataclass
class Timing:
    engine: str
    device: str
    threads: int
    epochs: int
    seconds_per_epoch: float
    test_acc: float


@torch.no_grad()
def evaluate_loader(model: torch.nn.Module, loader: DataLoader) -> tuple[float, float]:
    loss_sum, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        log_probs = model(images)
        loss_sum += F.nll_loss(log_probs, labels, reduction="sum").item()
        correct += (log_probs.argmax(dim=1) == labels).sum().item()
        seen += len(labels)
    return loss_sum / seen, 100.0 * correct / seen


def time_tutorial(data_dir: str, epochs: int, seed: int) -> Timing:
    torch.manual_seed(seed)  # the DataLoader's shuffling
    to_tensor = transforms.ToTensor()
    train_set = datasets.MNIST(data_dir, train=True, download=True, transform=to_tensor)
    test_set = datasets.MNIST(data_dir, train=False, download=True, transform=to_tensor)
    train_loader = DataLoader(train_set, batch_size=256, shuffle=True)
    model = build_model("seed", torch.Generator().manual_seed(seed))  # Flatten takes (N, 1, 28, 28) as well
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)

    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.nll_loss(model(images), labels)
            loss.backward()
            optimizer.step()
        model.eval()
        evaluate_loader(model, DataLoader(train_set, batch_size=1000))
        _, test_acc = evaluate_loader(model, DataLoader(test_set, batch_size=1000))
    seconds = time.perf_counter() - started
    return Timing("tutorial DataLoader loop", "cpu", torch.get_num_threads(), epochs, seconds / epochs, test_acc)


def time_trainer(data, epochs: int, seed: int, threads: int, device: torch.device) -> Timing:
    torch.set_num_threads(threads)
    trainer = Trainer(data, TrainConfig(epochs=epochs, seed=seed), device)
    last = trainer.run()[-1]
    return Timing("mnistdemo Trainer", device.type, threads, epochs, last.elapsed_s / epochs, last.test_acc)


def table(tutorial: Timing, ours: list[Timing]) -> str:
    rows = [
        "| engine | device | torch threads | epochs timed | s / epoch | 30 epochs (s) | test acc after (%) "
        "| speed-up |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for timing in [tutorial, *ours]:
        speedup = tutorial.seconds_per_epoch / timing.seconds_per_epoch
        thirty = f"{30 * timing.seconds_per_epoch:.1f}" + (" (estimate)" if timing.epochs < 30 else "")
        rows.append(
            f"| {timing.engine} | {timing.device} | {timing.threads} | {timing.epochs} "
            f"| {timing.seconds_per_epoch:.3f} | {thirty} | {timing.test_acc:.2f} | {speedup:.1f}x |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    parser.add_argument("--tutorial-epochs", type=int, default=1, help="epochs of the slow tutorial loop (default 1)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of our engine per thread setting (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="device for our engine (default: the GPU if there is one)")
    args = parser.parse_args()
    data_dir = resolve_data_dir(args.data_dir)

    started = time.perf_counter()
    try:
        data = load_mnist(data_dir)
    except DataError as error:
        print(f"bench_training: {error}", file=sys.stderr)
        return 1
    load_s = time.perf_counter() - started
    device = torch.device(args.device) if args.device else default_device()
    default_threads = torch.get_num_threads()

    tutorial = time_tutorial(str(data_dir), args.tutorial_epochs, args.seed)
    ours = [time_trainer(data, args.epochs, args.seed, threads, device) for threads in sorted({1, 2, default_threads})]
    torch.set_num_threads(default_threads)

    print("# Training speed: tutorial loop vs mnistdemo, seed model, batch 256, Adam 3e-4\n")
    print(
        f"CPU cores {os.cpu_count()}, torch's default threads {default_threads}, "
        f"load average {os.getloadavg()[0]:.1f} at the end; load_mnist took {load_s:.1f} s (once).\n"
    )
    print(table(tutorial, ours))
    best = min(ours, key=lambda t: t.seconds_per_epoch)
    speedup = tutorial.seconds_per_epoch / best.seconds_per_epoch
    print(
        f"\nBest of ours: {best.threads} thread(s), {speedup:.1f}x the tutorial per epoch "
        f"(target >= {TARGET_SPEEDUP}x: {'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}); "
        f"{best.epochs} epochs in {best.epochs * best.seconds_per_epoch:.1f} s "
        f"(target for 30: <= {TARGET_SEED_RUN_S} s: "
        f"{'met' if 30 * best.seconds_per_epoch <= TARGET_SEED_RUN_S else 'NOT met'})."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
