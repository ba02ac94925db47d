"""How many of a drawing set's digits can a person read? A blind reading against a model (issue 13).

`make` draws a set (bench/eval_drawings.py's splits and cache), reads it with a run's model, and
writes sheets of drawings for a person to read: every drawing the model gets wrong (or `--misses`
of them) mixed with as many it gets right, shuffled, each shown as drawn on the canvas (cropped to
its ink), numbered, with neither the digit meant nor the model's answer; `--key` rebuilds the sheets
of an earlier reading from its key instead. `score` takes the person's
answers, one digit per drawing in the sheets' order ("?" for none), and prints:
- how many of the drawings the model reads right, and how many of those it misses, the person reads;
- the person's accuracy on the whole set, estimated from the two groups weighted by the model's;
- "model or person": the share of the set that at least one of them reads, an upper bound for a
  model that reads what a person reads (exact when every miss was read);
- the model's accuracy on the drawings the person reads (estimated the same way).

Run from the repository root:
  .venv/bin/python -m bench.blind_reading make --generator elastic --out DIR [--cache DIR] [--key KEY]
  .venv/bin/python -m bench.blind_reading score DIR/key.json ANSWERS
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.eval_drawings import RUNS, SPLITS, drawn, read_canvases, split_digits, trained
from harness.drawings import GENERATORS
from mnistdemo.data import load_mnist
from mnistdemo.drawing import canvas_to_mnist
from mnistdemo.inference import predict_proba

CELL = 110  # pixels per drawing on a sheet, its number below it
COLUMNS, ROWS = 10, 8
MARGIN = 0.1  # the crop's margin around the ink, per side, as a share of the ink's longest side


def crop_to_ink(canvas: np.ndarray) -> np.ndarray:
    """The square around a grey canvas's ink, with a margin: the drawing as a person would look at it."""
    rows, cols = np.nonzero(canvas > 0)
    side = int(max(np.ptp(rows), np.ptp(cols)) * (1 + 2 * MARGIN)) + 4
    centre_row, centre_col = (rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2
    padded = np.pad(canvas, side)
    top, left = centre_row + side - side // 2, centre_col + side - side // 2
    return padded[top : top + side, left : left + side]


def sheets(canvases: np.ndarray) -> list[Image.Image]:
    """The drawings, numbered from 0, COLUMNS × ROWS per sheet."""
    per_sheet = COLUMNS * ROWS
    pages = []
    for first in range(0, len(canvases), per_sheet):
        page = Image.new("L", (COLUMNS * CELL, ROWS * (CELL + 14)), 90)
        pen = ImageDraw.Draw(page)
        for number, canvas in enumerate(canvases[first : first + per_sheet], start=first):
            row, col = divmod(number - first, COLUMNS)
            picture = Image.fromarray(crop_to_ink(canvas)).resize((CELL - 6, CELL - 6), Image.Resampling.LANCZOS)
            page.paste(picture, (col * CELL + 3, row * (CELL + 14) + 3))
            pen.text((col * CELL + 4, row * (CELL + 14) + CELL - 2), str(number), fill=255)
        pages.append(page)
    return pages


def blind_reading(model_right: np.ndarray, person_right: np.ndarray, model_accuracy: float) -> dict[str, float]:
    """From a person's answers on drawings the model reads right and wrong (booleans, one per drawing
    shown), and the model's accuracy on the whole set: the person's accuracy on each group, the
    person's estimated accuracy on the set (± one standard error), the "model or person" share, and
    the model's accuracy on the drawings the person reads."""
    on_right, on_wrong = person_right[model_right], person_right[~model_right]
    rate_right, rate_wrong = float(on_right.mean()), float(on_wrong.mean())
    estimate = model_accuracy * rate_right + (1 - model_accuracy) * rate_wrong
    variance = model_accuracy**2 * rate_right * (1 - rate_right) / len(on_right) + (
        1 - model_accuracy
    ) ** 2 * rate_wrong * (1 - rate_wrong) / len(on_wrong)
    return {
        "person on model-right": rate_right,
        "person on model-wrong": rate_wrong,
        "person": estimate,
        "person standard error": math.sqrt(variance),
        "model or person": model_accuracy + (1 - model_accuracy) * rate_wrong,
        "model on person-read": model_accuracy * rate_right / estimate,
    }


def make(args: argparse.Namespace) -> None:
    data = load_mnist(args.data_dir)
    split = SPLITS[args.split]
    digits, labels = split_digits(data, split, args.count)
    canvases, _ = drawn(digits, args.generator, args.hand, split, args.cache)
    drawing_set = f"{args.generator} {args.hand}, {args.split} split, {args.count} drawings"
    if args.key:  # an earlier reading's sheets, whatever the model reads today
        earlier = json.loads(args.key.read_text())
        if earlier["set"] != drawing_set:
            raise SystemExit(f"{args.key} is the key of another set: {earlier['set']}, not {drawing_set}")
        write_sheets(canvases[earlier["drawing"]], args.out)
        return
    images, kept = read_canvases(canvas_to_mnist, canvases)
    model, _ = trained(args.run, RUNS[args.run], data, args.cache)
    right = (predict_proba(model, images).argmax(axis=1) == labels) & kept

    rng = np.random.default_rng(args.seed)
    misses = np.flatnonzero(~right)
    if args.misses is not None:
        misses = rng.choice(misses, min(args.misses, len(misses)), replace=False)
    shown = np.concatenate([misses, rng.choice(np.flatnonzero(right), len(misses), replace=False)])
    rng.shuffle(shown)

    write_sheets(canvases[shown], args.out)
    key = {
        "set": drawing_set,
        "run": args.run,
        "model accuracy": float(right.mean()),
        "drawing": shown.tolist(),
        "digit": labels[shown].tolist(),
        "model right": right[shown].tolist(),
    }
    (args.out / "key.json").write_text(json.dumps(key))
    print(f"the key is {args.out / 'key.json'}")


def write_sheets(canvases: np.ndarray, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    pages = sheets(canvases)
    for number, page in enumerate(pages, start=1):
        page.save(out / f"sheet-{number}.png")
    print(f"{len(canvases)} drawings on {len(pages)} sheets in {out}")


def score(args: argparse.Namespace) -> None:
    key = json.loads(args.key.read_text())
    answers = args.answers.read_text().split()
    if len(answers) != len(key["digit"]):
        raise SystemExit(f"{len(answers)} answers for {len(key['digit'])} drawings")
    person_right = np.array(answers) == np.array([str(digit) for digit in key["digit"]])
    model_right = np.array(key["model right"])
    result = blind_reading(model_right, person_right, key["model accuracy"])
    print(f"{key['set']}, model {key['run']}: {100 * key['model accuracy']:.2f}%")
    print(f"person on {model_right.sum()} the model reads: {100 * result['person on model-right']:.1f}%")
    print(f"person on {(~model_right).sum()} the model misses: {100 * result['person on model-wrong']:.1f}%")
    print(f"person on the set (estimated): {100 * result['person']:.2f}% ± {100 * result['person standard error']:.2f}")
    print(f"model or person: {100 * result['model or person']:.2f}%")
    print(f"model on the drawings the person reads (estimated): {100 * result['model on person-read']:.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    maker = commands.add_parser("make", help="write the sheets and their key")
    maker.add_argument("--generator", choices=GENERATORS, required=True)
    maker.add_argument("--hand", default="mouse")
    maker.add_argument("--split", choices=SPLITS, default="held-out")
    maker.add_argument("--count", type=int, default=2000, help="drawings in the set, as bench/eval_drawings.py")
    maker.add_argument("--run", choices=RUNS, default="draw")
    maker.add_argument("--misses", type=int, help="show this many of the model's misses (default: all)")
    maker.add_argument("--seed", type=int, default=0, help="which drawings are shown, and in what order")
    maker.add_argument("--key", type=Path, help="rebuild the sheets of an earlier reading from its key")
    maker.add_argument("--out", type=Path, required=True)
    maker.add_argument("--cache", type=Path, help="bench/eval_drawings.py's cache of models and drawings")
    maker.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    scorer = commands.add_parser("score", help="score a person's answers against the key")
    scorer.add_argument("key", type=Path)
    scorer.add_argument("answers", type=Path, help="one digit per drawing, in the sheets' order; ? for none")
    args = parser.parse_args()
    if args.command == "make":
        make(args)
    else:
        score(args)


if __name__ == "__main__":
    main()
