"""Does the learning-rate finder's suggestion train well? For each MLP preset: the finder on fresh
weights (seed 0), then 3 epochs at the notebook's rate, at the suggested rate (snapped to the
sidebar's nearest) and at ten times it, each from the same fresh weights; test accuracy after each
epoch. The cnn gets only the finder (its 3 epochs take minutes). One CPU thread, as in the app.

Run from the repository root:  .venv/bin/python -m bench.lr_finder [--data-dir DIR] [--epochs 3]
"""

from __future__ import annotations

import argparse
import time

import torch

from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist
from mnistdemo.lr_finder import find_learning_rate
from mnistdemo.models import build_model
from mnistdemo.share import nearest
from mnistdemo.training import Trainer, use_one_cpu_thread
from mnistdemo.ui.sidebar import LEARNING_RATES
from mnistdemo.wording import format_learning_rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    device = torch.device("cpu")
    use_one_cpu_thread(device)
    data = load_mnist(args.data_dir)
    print("| preset | finder (s) | suggested | rate | " + " | ".join(f"epoch {e}" for e in range(1, args.epochs + 1)))
    print("|---|---:|---:|---:|" + "---:|" * args.epochs)
    for model in ("seed", "zoo", "cnn"):
        config = TrainConfig.for_model(model, epochs=args.epochs)
        started = time.perf_counter()
        finding = find_learning_rate(build_model(model, torch.Generator().manual_seed(0)), data, config)
        finder_s = time.perf_counter() - started
        suggested = format_learning_rate(finding.suggested)
        if model == "cnn":
            print(f"| {model} | {finder_s:.1f} | {suggested} | (not trained) |" + " |" * args.epochs)
            continue
        offered = nearest(finding.suggested, LEARNING_RATES)
        for lr in (config.lr, offered, 10 * offered):
            trainer = Trainer(data, TrainConfig.for_model(model, epochs=args.epochs, lr=lr), device)
            accuracies = " | ".join(f"{result.test_acc:.2f}" for result in trainer.run())
            print(f"| {model} | {finder_s:.1f} | {suggested} | {format_learning_rate(lr)} | {accuracies} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
