"""Speed and memory of the inside views (issue 9), on one CPU thread as the app computes them.

Each preset trains with its usual settings, then:
1. Confusion matrix on the 10,000 test digits: their probabilities, the guesses counted. Target:
   <= 0.2 s for the MLPs; the cnn's is reported.
2. After a stroke: the attributions (top guess and one other digit) and the steadiness sweep for
   one drawing (synthetic mouse drawings of test digits through canvas_to_mnist). Target: <= 0.3 s
   for the MLPs, <= 1 s for the cnn. Also the rest of the "why" section's server work: the first
   layer's response, its picture as PNG, the steadiness chart as JSON.
3. One poll of the Inside tab while a run trains: the first layer's picture as PNG, the two charts
   as JSON (the matrix is recomputed only once an epoch).
4. Replay memory per session: the weights kept after every epoch.
5. Steadiness on the whole test set: accuracy as every test digit is moved or turned.
6. How large the attributions are: what the top guess's map adds up to (log-probability against
   a blank image), over the first 200 test digits.

Run from the repository root:  .venv/bin/python -m bench.bench_inside [--repeats 20]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import numpy as np
import plotly.io
import torch
from PIL import Image

from harness.drawings import GENERATORS, MOUSE, draw_set
from mnistdemo import explain, inside, inside_charts
from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist
from mnistdemo.drawing import canvas_to_mnist
from mnistdemo.inference import predict_proba, predicted_labels
from mnistdemo.models import PRESETS, build_model
from mnistdemo.replay import BUDGET_BYTES, keep, weights_of
from mnistdemo.training import Trainer, use_one_cpu_thread
from mnistdemo.weight_pictures import map_grid, unit_grid


def median_s(work: Callable[[], object], repeats: int) -> float:
    work()  # warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def png_bytes(picture: np.ndarray) -> int:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.tell()


def first_layer_picture(model: torch.nn.Module, image: np.ndarray | None = None) -> np.ndarray:
    layer = inside.first_layer(model)
    if not layer.convolutional:
        activations = None if image is None else inside.first_layer_response(model, image)
        return unit_grid(layer.weights, layer.votes, activations)
    if image is None:
        return map_grid(layer.weights, signed=True, columns=8)
    return map_grid(inside.first_layer_response(model, image), signed=False, columns=8)


def replay_memory(name: str, epochs: int) -> tuple[int, int, int, int]:
    """(bytes per epoch, states and bytes kept after `epochs`, epochs kept in full before thinning)."""
    model = build_model(name)
    kept = (weights_of(model, 0, 0),)
    in_full = None
    for epoch in range(1, 201):
        kept = keep(kept, weights_of(model, epoch, epoch))
        if in_full is None and len(kept) < epoch + 1:
            in_full = epoch - 1
        if epoch == epochs:
            at_usual = kept
    return kept[0].nbytes, len(at_usual), sum(w.nbytes for w in at_usual), in_full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed runs of each measure (medians)")
    parser.add_argument("--drawings", type=int, default=20, help="drawings explained per preset")
    parser.add_argument("--models", nargs="+", choices=PRESETS, default=list(PRESETS))
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    args = parser.parse_args()

    use_one_cpu_thread(torch.device("cpu"))
    data = load_mnist(args.data_dir)
    test_images, test_labels = data.test_images.numpy(), data.test_labels.numpy()
    pick = np.random.default_rng(1).choice(len(test_images), args.drawings, replace=False)
    drawings = [canvas_to_mnist(d.canvas) for d in draw_set(test_images[pick], GENERATORS["skeleton"], MOUSE, seed=1)]
    drawings = [drawing for drawing in drawings if drawing is not None]

    speed, memory, steadiness, totals = [], [], [], []
    for name in args.models:
        config = TrainConfig.for_model(name)
        trainer = Trainer(data, config, torch.device("cpu"))
        started = time.perf_counter()
        trainer.run()
        print(f"{name}: trained {config.epochs} epochs in {time.perf_counter() - started:.0f} s", flush=True)
        model = trainer.model.eval()
        spec = PRESETS[name]

        def confusion(model=model) -> np.ndarray:
            return inside.confusion_matrix(test_labels, predicted_labels(predict_proba(model, test_images)))

        matrix = confusion()
        explain_times, section_times = [], []
        for image in drawings:
            probabilities = predict_proba(model, image[None])[0]
            guess, other = np.argsort(-probabilities)[:2]
            started = time.perf_counter()
            explain.attributions(model, image, [guess, other])
            sweeps = explain.steadiness(model, image)
            explained = time.perf_counter()
            png_bytes(first_layer_picture(model, image))
            plotly.io.to_json(inside_charts.steadiness_chart(sweeps, (guess, other), spec.probability_cap))
            explain_times.append(explained - started)
            section_times.append(time.perf_counter() - started)

        def poll(model=model, matrix=matrix) -> None:
            png_bytes(first_layer_picture(model))
            plotly.io.to_json(inside_charts.confusion_chart(matrix))
            plotly.io.to_json(inside_charts.class_accuracy_chart(inside.class_accuracy(matrix)))

        speed.append(
            (
                name,
                median_s(confusion, args.repeats),
                statistics.median(explain_times),
                statistics.median(section_times),
                median_s(poll, args.repeats),
            )
        )
        per_epoch, states, kept_bytes, in_full = replay_memory(name, config.epochs)
        memory.append((name, per_epoch, config.epochs, states, kept_bytes, in_full))
        images = torch.from_numpy(test_images)
        row = []
        for right in (0, 1, 2, 3, 4):
            moved = explain.shifted(images, right, 0).numpy()
            row.append(100 * float((predicted_labels(predict_proba(model, moved)) == test_labels).mean()))
        for degrees in (15, 30):
            turned = explain.rotated(images, np.full(len(images), degrees)).numpy()
            row.append(100 * float((predicted_labels(predict_proba(model, turned)) == test_labels).mean()))
        steadiness.append((name, row))
        first = test_images[:200]
        guesses = predicted_labels(predict_proba(model, first))
        sums = [explain.attributions(model, image, [guess]).sum() for image, guess in zip(first, guesses, strict=True)]
        totals.append((name, np.percentile(sums, [5, 50, 95])))

    print(f"\nmedians of {args.repeats} runs; 'after a stroke': {len(drawings)} mouse drawings of test digits\n")
    print("| preset | confusion matrix (s) | attributions + steadiness (s) | whole why section (s) | Inside poll (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, matrix_s, explain_s, section_s, poll_s in speed:
        print(f"| {name} | {matrix_s:.3f} | {explain_s:.3f} | {section_s:.3f} | {poll_s:.3f} |")
    print(f"\nreplay memory per session (budget {BUDGET_BYTES / 2**20:.0f} MiB):\n")
    print("| preset | one epoch's weights (KB) | usual epochs | states kept | kept (MB) | every epoch kept up to |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, per_epoch, epochs, states, kept_bytes, in_full in memory:
        print(f"| {name} | {per_epoch / 1e3:.1f} | {epochs} | {states} | {kept_bytes / 1e6:.2f} | {in_full} |")
    print("\ntest accuracy (%) with every test digit moved right by k px, or turned anticlockwise:\n")
    print("| preset | 0 px | 1 px | 2 px | 3 px | 4 px | 15° | 30° |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in steadiness:
        print(f"| {name} | " + " | ".join(f"{value:.2f}" for value in row) + " |")
    print("\nwhat the top guess's attribution map adds up to (nats), first 200 test digits:\n")
    print("| preset | 5th percentile | median | 95th percentile |")
    print("|---|---:|---:|---:|")
    for name, (low, middle, high) in totals:
        print(f"| {name} | {low:.2f} | {middle:.2f} | {high:.2f} |")


if __name__ == "__main__":
    main()
