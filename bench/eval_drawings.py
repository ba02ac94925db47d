"""How well do models read canvas drawings? (issue 4)

Synthetic drawings of MNIST *test* digits (harness/drawings.py: each digit's skeleton re-drawn with a
round pen of random width at a random size and place on the 280×280 canvas; "mouse" also rotated,
sheared, stretched and wobbly) are read two ways: shrunk to 28×28 as they are (what most demos do),
and through `mnistdemo.canvas_to_mnist`. Each preset is trained with the project's Trainer and its
default hyperparameters, with and without augmentation; the table gives its MNIST test accuracy,
its accuracy on the very digits that were drawn, and on the drawings read both ways. A drawing that
canvas_to_mnist rejects (None) counts as wrong. Training times come with their ratio to the seed
model's in the same run, since this machine is shared and its speed varies.

Run from the repository root:  .venv/bin/python -m bench.eval_drawings [--count 2000] [--seed 0]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo (see `python -m mnistdemo data`).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

from harness.drawings import STYLES, iter_drawings, naive_resize
from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist
from mnistdemo.drawing import canvas_to_mnist
from mnistdemo.inference import predict_proba
from mnistdemo.models import PRESETS
from mnistdemo.training import Trainer, use_one_cpu_thread


@dataclass
class DrawingSet:
    """Drawings of some test digits, read both ways; a rejected drawing is None in `prepared`."""

    style: str
    naive: np.ndarray  # (N, 28, 28)
    prepared: list[np.ndarray | None]

    @property
    def rejected(self) -> int:
        return sum(image is None for image in self.prepared)


def make_set(images: np.ndarray, style: str, seed: int) -> DrawingSet:
    naive, prepared = [], []
    for canvas in iter_drawings(images, STYLES[style], seed):
        naive.append(naive_resize(canvas))
        prepared.append(canvas_to_mnist(canvas))
    return DrawingSet(style, np.stack(naive), prepared)


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * float((predict_proba(model, images).argmax(axis=1) == labels).mean())


def prepared_accuracy(model: torch.nn.Module, drawings: DrawingSet, labels: np.ndarray) -> float:
    """Accuracy with canvas_to_mnist; a rejected drawing counts as wrong."""
    kept = np.array([image is not None for image in drawings.prepared])
    images = np.stack([image for image in drawings.prepared if image is not None])
    correct = predict_proba(model, images).argmax(axis=1) == labels[kept]
    return 100.0 * float(correct.sum()) / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="drawings per style")
    parser.add_argument("--seed", type=int, default=0, help="picks the digits, draws them, seeds training")
    parser.add_argument("--models", nargs="+", choices=PRESETS, default=list(PRESETS))
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    args = parser.parse_args()

    use_one_cpu_thread(torch.device("cpu"))  # as the CLI and the app train
    data = load_mnist(args.data_dir)
    pick = np.random.default_rng(args.seed).choice(len(data.test_images), args.count, replace=False)
    digits, labels = data.test_images[pick].numpy(), data.test_labels[pick].numpy()
    started = time.perf_counter()
    sets = {style: make_set(digits, style, args.seed) for style in STYLES}
    print(
        f"{args.count} drawings per style from MNIST test digits (seed {args.seed}), drawn and prepared in "
        f"{time.perf_counter() - started:.0f} s; rejected by canvas_to_mnist: "
        + ", ".join(f"{name} {drawing_set.rejected}" for name, drawing_set in sets.items()),
        flush=True,
    )

    header = ["model", "augment", "epochs", "train s", "× seed time", "MNIST test", "same digits"]
    for style in STYLES:
        header += [f"{style} naive", f"{style} canvas_to_mnist"]
    rows = []
    seed_time = None
    for model in args.models:
        for augment in (False, True):
            config = TrainConfig.for_model(model, seed=args.seed, augment=augment)
            trainer = Trainer(data, config, torch.device("cpu"))
            final = trainer.run()[-1]
            seed_time = seed_time or (final.elapsed_s if model == "seed" else None)
            trained = trainer.model
            row = [
                model,
                "yes" if augment else "no",
                str(final.epoch),
                f"{final.elapsed_s:.0f}",
                f"{final.elapsed_s / seed_time:.1f}" if seed_time else "–",
                f"{final.test_acc:.2f}",
                f"{accuracy(trained, digits, labels):.2f}",
            ]
            for drawing_set in sets.values():
                row += [
                    f"{accuracy(trained, drawing_set.naive, labels):.2f}",
                    f"{prepared_accuracy(trained, drawing_set, labels):.2f}",
                ]
            rows.append(row)
            print(" | ".join(row), flush=True)

    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
