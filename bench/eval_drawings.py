"""How well do the presets read drawings made in ways the code was never tuned on? (issues 4 and 13)

Four generators (harness/drawings: skeleton, strokes, elastic, extremes) draw MNIST *test* digits on
the app's 280×280 canvas, each by a steady hand ("plain") and by a mouse's (rotated, slanted,
stretched, wobbly: "mouse"). Digits and drawings come in two splits:
- tune: test digits 0-4,999, drawing seed 1. Every choice of preprocessing and augmentation was made
  on this split's skeleton drawings, and on nothing else;
- held-out: test digits 5,000-9,999, drawing seed 2: for reporting.
Each drawing is read three ways: shrunk to 28×28 as it is ("naive", what most demos do), by MNIST's
own recipe alone (crop, longest side 20 px, centre of mass; the pen as drawn: "recipe"), and by
`mnistdemo.canvas_to_mnist`. A drawing a reader rejects counts as wrong. Each run trains a preset
with its defaults on one CPU thread, as the app does; "same digits" is the model on the 28×28 digits
that were drawn (for `elastic`, the warped digits).

Prints, per run: its training time and MNIST test accuracy, then three tables: accuracy on every set
through canvas_to_mnist; canvas_to_mnist's lead over the recipe (points; negative: the recipe reads
more); and each run's accuracy on the plain drawings against the same digits.

Run from the repository root:  .venv/bin/python -m bench.eval_drawings [--split held-out] [--count 2000]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo (see `python -m mnistdemo data`).
--cache DIR keeps each trained model and each drawing set there and reuses them on the next run (a
set only while harness/drawings is unchanged; the drawings are read afresh every run).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import harness.drawings
from harness.drawings import GENERATORS, HANDS, draw_set, naive_resize, plain_recipe
from mnistdemo.checkpoint import load_checkpoint, save_checkpoint
from mnistdemo.config import TrainConfig
from mnistdemo.data import MnistData, load_mnist
from mnistdemo.drawing import canvas_to_mnist
from mnistdemo.inference import predict_proba
from mnistdemo.models import PRESETS
from mnistdemo.training import Trainer, use_one_cpu_thread


@dataclass(frozen=True)
class Split:
    seed: int
    digits: range  # indices into MNIST's test set


SPLITS = {"tune": Split(1, range(0, 5000)), "held-out": Split(2, range(5000, 10000))}
READERS: dict[str, Callable[[np.ndarray], np.ndarray | None]] = {
    "naive": naive_resize,
    "recipe": plain_recipe,
    "canvas_to_mnist": canvas_to_mnist,
}
RUNS = {name: TrainConfig.for_model(name) for name in PRESETS} | {
    "cnn --augment": TrainConfig.for_model("cnn", augment=True)
}


@dataclass
class DrawingSet:
    labels: np.ndarray
    sources: np.ndarray  # (N, 28, 28): the digits that were drawn
    readings: dict[str, tuple[np.ndarray, np.ndarray]]  # reader -> images (N, 28, 28), read (N,) bool


def make_sets(
    data: MnistData,
    split: Split,
    count: int,
    generators: list[str] | None = None,
    hands: list[str] | None = None,
    cache: Path | None = None,
) -> dict[tuple[str, str], DrawingSet]:
    """The split's drawings by each generator and hand (all, unless named), read every way."""
    digits, labels = split_digits(data, split, count)
    sets = {}
    for generator in generators or list(GENERATORS):
        for hand in hands or list(HANDS):
            started = time.perf_counter()
            canvases, sources = drawn(digits, generator, hand, split, cache)
            readings = {reader_name: read_canvases(reader, canvases) for reader_name, reader in READERS.items()}
            sets[generator, hand] = DrawingSet(labels, sources, readings)
            rejected = count - readings["canvas_to_mnist"][1].sum()
            print(
                f"{generator} {hand}: {count} drawings made and read in {time.perf_counter() - started:.0f} s"
                f"; rejected by canvas_to_mnist: {rejected}",
                flush=True,
            )
    return sets


def split_digits(data: MnistData, split: Split, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` of the split's test digits (N, 28, 28) and their labels, the same for every generator."""
    pick = np.random.default_rng(split.seed).choice(split.digits, count, replace=False)
    return data.test_images[pick].numpy(), data.test_labels[pick].numpy()


def read_canvases(
    reader: Callable[[np.ndarray], np.ndarray | None], canvases: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Grey canvases (N, 280, 280) read by `reader`: the images (N, 28, 28), blank where it read
    nothing, and whether it read each (N,) bool."""
    read = [reader(np.dstack([grey, grey, grey, np.full_like(grey, 255)])) for grey in canvases]
    kept = np.array([image is not None for image in read])
    images = np.stack([np.zeros((28, 28), np.float32) if image is None else image for image in read])
    return images, kept


def drawn(
    digits: np.ndarray, generator: str, hand: str, split: Split, cache: Path | None
) -> tuple[np.ndarray, np.ndarray]:
    """The drawings' grey canvases (N, 280, 280) uint8 and the digits drawn (N, 28, 28), from the cache
    when they were made by the generators as they are now."""
    code = hashlib.sha256()
    for source in sorted(Path(harness.drawings.__file__).parent.glob("*.py")):
        code.update(source.read_bytes())
    key = f"{generator}-{hand}-seed{split.seed}-{len(digits)}-{digits.sum():.3f}-{code.hexdigest()[:12]}"
    path = cache / "drawings" / f"{key}.npz" if cache else None
    if path and path.exists():
        with np.load(path) as saved:
            return saved["canvases"], saved["sources"]
    drawings = list(draw_set(digits, GENERATORS[generator], HANDS[hand], split.seed))
    canvases = np.stack([drawing.canvas[:, :, 0] for drawing in drawings])  # grey: the channels are equal
    sources = np.stack([drawing.source for drawing in drawings])
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, canvases=canvases, sources=sources)
    return canvases, sources


def trained(name: str, config: TrainConfig, data: MnistData, cache: Path | None) -> tuple[torch.nn.Module, str]:
    """The run's model and how long it trained (seconds), from the cache if it is there."""
    path = cache / f"{name.replace(' ', '')}.pt" if cache else None
    if path and path.exists():
        model, saved_config, history = load_checkpoint(path)
        if saved_config == config:
            return model, f"{history[-1].elapsed_s:.0f}"
    trainer = Trainer(data, config, torch.device("cpu"))
    trainer.run()
    if path:
        save_checkpoint(path, trainer.model, trainer.config, trainer.history)
    return trainer.model, f"{trainer.history[-1].elapsed_s:.0f}"


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, kept: np.ndarray | None = None) -> float:
    right = predict_proba(model, images).argmax(axis=1) == labels
    return 100.0 * float((right if kept is None else right & kept).mean())


def table(header: list[str], rows: list[list[str]]) -> None:
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="held-out")
    parser.add_argument("--count", type=int, default=2000, help="drawings per generator and hand")
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    parser.add_argument("--generators", nargs="+", choices=GENERATORS, default=list(GENERATORS))
    parser.add_argument("--cache", type=Path, help="keep trained models and drawing sets here and reuse them")
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    args = parser.parse_args()

    use_one_cpu_thread(torch.device("cpu"))  # as the CLI and the app train
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    data = load_mnist(args.data_dir)
    sets = make_sets(data, SPLITS[args.split], args.count, args.generators, cache=args.cache)
    names = [f"{generator} {hand}" for generator, hand in sets]

    read_rows, lead_rows, same_rows = [], [], []
    for name in args.runs:
        model, seconds = trained(name, RUNS[name], data, args.cache)
        mnist_test = accuracy(model, data.test_images.numpy(), data.test_labels.numpy())
        print(f"{name}: trained in {seconds} s, MNIST test {mnist_test:.2f}%", flush=True)
        read_rows.append([name, seconds, f"{mnist_test:.2f}"])
        lead_rows.append([name])
        same_rows.append([name])
        for (_, hand), drawing_set in sets.items():
            scores = {
                reader: accuracy(model, images, drawing_set.labels, kept)
                for reader, (images, kept) in drawing_set.readings.items()
            }
            read_rows[-1].append(f"{scores['canvas_to_mnist']:.2f}")
            lead_rows[-1].append(f"{scores['canvas_to_mnist'] - scores['recipe']:+.2f}")
            if hand == "plain":
                same = accuracy(model, drawing_set.sources, drawing_set.labels)
                same_rows[-1] += [
                    f"{same:.2f}",
                    *(f"{scores[reader]:.2f}" for reader in ("canvas_to_mnist", "recipe", "naive")),
                ]

    split = f"{args.split} split, {args.count} drawings per set"
    print(f"\nAccuracy (%) through canvas_to_mnist ({split}):")
    table(["run", "train s", "MNIST test", *names], read_rows)
    print(f"\ncanvas_to_mnist's lead over MNIST's recipe alone, points ({split}):")
    table(["run", *names], lead_rows)
    print(f"\nPlain drawings against the same digits, % ({split}):")
    same_header = ["run"]
    for generator in args.generators:
        same_header += [f"{generator}: same digits", "canvas_to_mnist", "recipe", "naive"]
    table(same_header, same_rows)


if __name__ == "__main__":
    main()
