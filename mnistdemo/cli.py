"""The command line: `python -m mnistdemo train`, `sweep`, `evaluate CHECKPOINT [--drawings DB]`,
`drawings DB` and `data --from FOLDER`.

Exit status: 0 done; 1 an error (one line on stderr); 2 a mistake in the arguments; 3 the model did
not learn (its loss stopped being a number, or it ended no better than chance: a warning line says
why and what to try); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from .checkpoint import Checkpoint, CheckpointError, save_checkpoint
from .cluster import ClusterState, RayCluster, RayRunner
from .config import TrainConfig
from .data import DataError, import_archives, load_mnist, resolve_data_dir
from .divergence import diagnose
from .inference import predict_proba, predicted_labels
from .jobs import JobSnapshot, JobState, LocalRunner, TrainingJob, favour_training_threads
from .library import (
    LibraryError,
    check_name,
    default_name,
    is_library_name,
    list_models,
    load_file,
    load_named,
    model_path,
    resolve_models_dir,
    save_model,
    set_default,
)
from .models import PRESETS
from .room_store import StoreError, read_drawings
from .runs import runs_to_json
from .sweep import grid, jobs_for, run_all
from .training import (
    BatchReport,
    Diverged,
    EpochResult,
    RunClock,
    Trainer,
    TrainingOutOfMemory,
    default_device,
    evaluate,
    use_one_cpu_thread,
)
from .wording import epochs, format_duration, format_setting, trouble_sentence

EXIT_NOT_LEARNING = 3
ESTIMATE_AFTER_S = 3.0  # with --json, say how long the run will take once it has trained this long
SWEPT = ("lr", "batch_size", "seed")  # the settings a sweep takes lists of


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a mistake prints one line, not the usage block."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def setting(name: str, kind: type) -> Callable[[str], Any]:
    """An argparse type for TrainConfig's setting `name`: parsed as `kind`, checked against its limits."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if kind is int else 'a number'}"
            ) from None
        try:
            return TrainConfig.check(name, value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def settings(name: str, kind: type) -> Callable[[str], tuple]:
    """An argparse type for a comma-separated list of TrainConfig's setting `name`, each one checked."""
    one = setting(name, kind)

    def parse(text: str) -> tuple:
        values = tuple(one(part.strip()) for part in text.split(","))
        if len(set(values)) < len(values):
            raise argparse.ArgumentTypeError(f"{text!r} names a value twice")
        return values

    return parse


def preset_defaults(name: str) -> str:
    """'default: 30, cnn 4': the notebook's value and every preset's own."""
    usual = getattr(TrainConfig(), name)
    others = [f"{spec.name} {getattr(spec, name):g}" for spec in PRESETS.values() if getattr(spec, name) != usual]
    return f"default: {', '.join([f'{usual:g}', *others])}"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="mnistdemo", description="Train the notebook's MNIST network.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineErrorParser)

    train = commands.add_parser("train", help="train a model; defaults are the notebook's")
    train.add_argument("--epochs", type=setting("epochs", int), help=preset_defaults("epochs"))
    train.add_argument("--batch-size", type=setting("batch_size", int), help=preset_defaults("batch_size"))
    train.add_argument("--lr", type=setting("lr", float), help=f"Adam's learning rate ({preset_defaults('lr')})")
    train.add_argument(
        "--model",
        choices=tuple(PRESETS),
        default=TrainConfig().model,
        help="; ".join(f"{spec.name}: {spec.description}" for spec in PRESETS.values()),
    )
    train.add_argument(
        "--augment", action="store_true", default=None, help="warp and re-thicken training digits like drawings"
    )
    train.add_argument(
        "--seed", type=setting("seed", int), help="random seed for weights, shuffling, augmentation (default: 0)"
    )
    train.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    train.add_argument("--device", help="cpu, cuda or mps (default: the GPU if there is one)")
    train.add_argument(
        "--save",
        metavar="PATH|NAME",
        help="after training, write a checkpoint to PATH (a .pt file or any path with a folder), "
        "or into the model library as NAME",
    )
    train.add_argument("--replace", action="store_true", help="--save NAME may replace a library model")
    train.add_argument("--models-dir", help=MODELS_DIR_HELP)
    train.add_argument("--json", action="store_true", help="one JSON object per epoch on stdout, then a summary")

    sweep = commands.add_parser(
        "sweep", help="train every combination of some settings; the runs load into the app's run comparison"
    )
    sweep.add_argument("--model", choices=tuple(PRESETS), default=TrainConfig().model)
    sweep.add_argument(
        "--lr", type=settings("lr", float), help="learning rates, comma-separated (default: the model's)"
    )
    sweep.add_argument(
        "--batch-size", type=settings("batch_size", int), help="batch sizes, comma-separated (default: the model's)"
    )
    sweep.add_argument("--seed", type=settings("seed", int), help="random seeds, comma-separated (default: 0)")
    sweep.add_argument("--epochs", type=setting("epochs", int), help=preset_defaults("epochs"))
    sweep.add_argument("--augment", action="store_true", default=None, help="augment every run's training digits")
    sweep.add_argument(
        "--ray", metavar="ADDRESS", help="train on this Ray cluster (auto, or HOST:PORT), every run at once"
    )
    sweep.add_argument(
        "--parallel", type=int, default=2, choices=range(1, 65), metavar="N", help="runs at once here (default: 2)"
    )
    sweep.add_argument(
        "--out", metavar="PATH", default="runs.json", help="where to write the runs (default: runs.json)"
    )
    sweep.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")

    check = commands.add_parser("evaluate", help="test accuracy of a checkpoint saved by train --save")
    check.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file, or a model's name in the library")
    check.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    check.add_argument(
        "--drawings", metavar="DB", help="score it on a room's drawings (the digits meant) instead of MNIST's test set"
    )
    check.add_argument("--models-dir", help=MODELS_DIR_HELP)
    check.add_argument("--json", action="store_true", help="one JSON object on stdout")

    room = commands.add_parser("drawings", help="what a room's database holds; --npz exports it")
    room.add_argument("database", metavar="DB")
    room.add_argument("--npz", metavar="PATH", help="write the drawings as a NumPy .npz (images, labels, ...)")

    library = commands.add_parser("models", help="list the model library; mark the model the app starts with")
    library.add_argument("--default", metavar="NAME", help="every new page session starts with this model")
    library.add_argument("--no-default", action="store_true", help="new page sessions start untrained")
    library.add_argument("--data-dir", help="MNIST folder, beside which the library is by default")
    library.add_argument("--models-dir", help=MODELS_DIR_HELP)
    library.add_argument("--json", action="store_true", help="one JSON object per model on stdout")

    data = commands.add_parser("data", help="import the four official MNIST archives from a folder (offline)")
    data.add_argument("--from", dest="source", required=True, metavar="FOLDER")
    data.add_argument("--data-dir", help="where to put them (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    return parser


MODELS_DIR_HELP = "the model library's folder (default: $MNISTDEMO_MODELS_DIR, else models/ in the data folder)"


def pick_device(name: str | None) -> torch.device:
    if name is None:
        return default_device()
    try:
        device = torch.device(name)
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError) as error:
        raise ValueError(f"device {name!r} is not usable here ({str(error).splitlines()[0]})") from None
    return device


def check_writable(path: str, what: str = "a checkpoint") -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"cannot write {what} to {path}: it is a folder")
    if not os.path.isdir(folder):
        raise ValueError(f"cannot write {what} to {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write {what} to {path}: {folder} is not writable")


class Progress:
    """What the terminal shows while training: a progress bar over every batch of the run, with the
    time left (evaluations included) and the last epoch's numbers; with --json, one estimate line on
    stderr instead, once the first batches tell."""

    def __init__(self, trainer: Trainer, device: torch.device, json_lines: bool):
        config = trainer.config
        self.clock = RunClock(config.epochs, trainer.estimated_evaluation_s())
        self.trainer, self.json_lines, self.estimated = trainer, json_lines, False
        self.losses: list[float] = []  # every batch's, for the diagnosis
        batches = -(-len(trainer.train_images) // config.batch_size)
        self.bar = None
        if not json_lines:
            self.bar = tqdm(
                total=config.epochs * batches,
                unit="batch",
                desc=f"{config.model} on {device.type}",
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} batches{postfix}",
            )
        self.last_epoch = ""  # the last finished epoch's numbers

    def on_batch(self, report: BatchReport) -> None:
        self.losses.append(report.loss)
        seconds_left = self.clock.batch_done(report)
        if self.bar is not None:
            where = f"epoch {report.epoch}/{self.clock.epochs}, about {format_duration(seconds_left)} left"
            self.bar.set_postfix_str(where + self.last_epoch, refresh=False)
            self.bar.update()
        elif not self.estimated and self.clock.elapsed_s >= ESTIMATE_AFTER_S:
            self.estimated = True
            total = format_duration(self.clock.elapsed_s + seconds_left)
            print(f"mnistdemo: this run will take about {total} (from its first batches)", file=sys.stderr, flush=True)

    def on_epoch(self, result: EpochResult) -> None:
        self.clock.epoch_done(self.trainer.evaluation_s)
        if self.json_lines:
            print(json.dumps(result.as_dict()), flush=True)
        else:
            numbers = f"loss {result.loss:.4f}, train {result.train_acc:.2f}%, test {result.test_acc:.2f}%"
            self.last_epoch = f"; epoch {result.epoch}: {numbers}"
            self.bar.set_postfix_str(f"epoch {result.epoch}/{self.clock.epochs} done: {numbers}")

    def close(self, leave: bool = True) -> None:
        """`leave=False` erases the bar (the run failed: only the error line should stay)."""
        if self.bar is not None:
            self.bar.leave = leave
            self.bar.close()


def train_command(args: argparse.Namespace) -> int:
    given = {name: getattr(args, name) for name in TrainConfig.names()}  # None: the preset's usual value
    config = TrainConfig.for_model(**{name: value for name, value in given.items() if value is not None})
    device = pick_device(args.device)
    use_one_cpu_thread(device)
    folder = resolve_models_dir(args.models_dir, args.data_dir)
    into_library = bool(args.save) and is_library_name(args.save)
    if into_library:  # fail before training, not after it, and leave no empty file behind
        check_library_save(folder, args.save, args.replace)
    elif args.save:
        check_writable(args.save)
    trainer = Trainer(load_mnist(args.data_dir), config, device)
    progress = Progress(trainer, device, args.json)
    not_finite = None
    try:
        trainer.run(on_batch=progress.on_batch, on_epoch=progress.on_epoch)
    except Diverged as error:
        not_finite = error
    except BaseException:
        progress.close(leave=False)
        raise
    progress.close()
    trouble = diagnose(config, trainer.history, progress.losses, not_finite)
    if trouble:
        sentence = trouble_sentence(trouble, config.batch_size, rate=lambda lr: f"--lr {lr:g}")
        print(f"mnistdemo: warning: {sentence}", file=sys.stderr, flush=True)
    if not trainer.history:  # stopped in its first epoch: nothing to save or report
        return EXIT_NOT_LEARNING
    final = trainer.history[-1]
    saved = args.save
    model, trained_config, history, training = trainer.model, trainer.config, trainer.history, trainer.training_state()
    if into_library:
        saved = str(save_model(folder, args.save, model, trained_config, history, training, args.replace))
    elif args.save:
        save_checkpoint(args.save, model, trained_config, history, training=training)
    summary = {"summary": True, **asdict(config), "device": device.type, **final.as_dict(), "saved": saved}
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print(
            f"test accuracy {final.test_acc:.2f}% after {epochs(final.epoch)} in {final.elapsed_s:.1f} s"
            + (f"; saved {saved}" if saved else "")
        )
    return EXIT_NOT_LEARNING if trouble else 0


def connect(address: str, data) -> RayCluster:
    """The Ray cluster at `address`, connected; ValueError saying why not."""
    cluster = RayCluster(address, data)
    while (status := cluster.status()).state == ClusterState.CONNECTING:
        threading.Event().wait(0.1)
    if status.state != ClusterState.CONNECTED:
        raise ValueError(f"the Ray cluster at {address} cannot be reached: {status.detail}")
    return cluster


def sweep_table(snapshots: list[JobSnapshot]) -> str:
    """One line per run: its settings, its numbers, how it ended."""
    rows = [["lr", "batch", "seed", "epochs", "test %", "train %", "loss", "time"]]
    for snapshot in snapshots:
        config, last = snapshot.config, snapshot.history[-1] if snapshot.history else None
        settings = [format_setting(config.lr), str(config.batch_size), str(config.seed), str(snapshot.epochs_done)]
        if last:
            settings += [f"{last.test_acc:.2f}", f"{last.train_acc:.2f}", f"{last.loss:.4f}"]
            rows.append([*settings, format_duration(last.elapsed_s)])
        else:
            rows.append(settings + ["–"] * 4)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    outcomes = ["outcome"] + [
        snapshot.state.value + (f": {snapshot.message}" if snapshot.message else "") for snapshot in snapshots
    ]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) + "  " + outcome
        for row, outcome in zip(rows, outcomes, strict=True)
    )


def write_runs(path: str, jobs: list[TrainingJob]) -> int:
    """The finished runs, as the app's run comparison reads them (`runs.runs_to_json`); how many."""
    records = []
    for job in jobs:
        snapshot, ended = job.snapshot(), job.runs()
        if snapshot.state == JobState.FINISHED and ended:
            node = snapshot.placement.node
            where = "sweep" + (f" on {node}" if node else "")
            records.append(replace(ended[-1], number=len(records) + 1, source=where))
    Path(path).write_text(runs_to_json(records))
    return len(records)


def sweep_command(args: argparse.Namespace) -> int:
    lists = {name: getattr(args, name) for name in SWEPT if getattr(args, name)}
    fixed = {name: getattr(args, name) for name in ("epochs", "augment") if getattr(args, name) is not None}
    configs = grid(args.model, lists, **fixed)
    check_writable(args.out, "the runs")
    use_one_cpu_thread(torch.device("cpu"))  # each run trains on one CPU thread, here as on a cluster
    favour_training_threads()
    data = load_mnist(args.data_dir)
    cluster = connect(args.ray, data) if args.ray else None
    runner = RayRunner(cluster) if cluster else LocalRunner(threading.Semaphore(args.parallel))
    where = f"on the Ray cluster at {args.ray} ({cluster.status().detail})" if cluster else f"{args.parallel} at a time"
    print(f"{len(configs)} runs of the {args.model} model, {where}", file=sys.stderr)
    jobs = jobs_for(data, configs, runner)
    try:
        with tqdm(total=len(jobs), unit="run", desc="sweep") as bar:

            def show(snapshots: list[JobSnapshot]) -> None:
                bar.update(sum(not s.active for s in snapshots) - bar.n)
                training = sum(s.state == JobState.RUNNING for s in snapshots)
                bar.set_postfix(training=training, waiting=sum(s.state == JobState.WAITING for s in snapshots))

            run_all(jobs, show)
    finally:  # also after Ctrl-C: the finished runs are kept
        if cluster:
            cluster.close()
        snapshots = [job.snapshot() for job in jobs]
        kept = write_runs(args.out, jobs)
        print(sweep_table(snapshots))
        print(f"{kept} finished run{'s' * (kept != 1)} in {args.out}", file=sys.stderr)
    return 0 if kept == len(jobs) else 1  # the table says why the others did not finish


def check_library_save(folder: Path, name: str, replace: bool) -> None:
    if model_path(folder, name).exists() and not replace:
        raise LibraryError(f"the library in {folder} already holds a model named {check_name(name)!r} (add --replace)")
    check_writable(str(model_path(folder, name)) if folder.is_dir() else str(folder))


def read_model(given: str, models_dir: str | None, data_dir: str | None) -> Checkpoint:
    """A checkpoint file, else (for a bare name with no such file) a library model."""
    if is_library_name(given) and not os.path.exists(given):
        return load_named(resolve_models_dir(models_dir, data_dir), given)
    return load_file(given)


def evaluate_command(args: argparse.Namespace) -> int:
    checkpoint = read_model(
        args.checkpoint, args.models_dir, args.data_dir
    )  # before the data: a bad file fails at once
    model, config, history = checkpoint.model, checkpoint.config, checkpoint.history
    if args.drawings:
        return score_drawings(args, model, config, history)
    data = load_mnist(args.data_dir)
    loss, test_acc = evaluate(model, data.test_images, data.test_labels)
    scores = {"test_loss": round(loss, 4), "test_acc": round(test_acc, 2)}
    return report_score(args, config, history, scores, f"test accuracy {test_acc:.2f}%")


def report_score(args: argparse.Namespace, config: TrainConfig, history: list, scores: dict, said: str) -> int:
    """A checkpoint's scores: one JSON object with --json, else one line naming the model."""
    if args.json:
        result = {"checkpoint": args.checkpoint, "model": config.model, "epochs": len(history), **scores}
        print(json.dumps(result), flush=True)
    else:
        print(f"{said} ({config.model} after {epochs(len(history))})")
    return 0


def score_drawings(args: argparse.Namespace, model: torch.nn.Module, config: TrainConfig, history: list) -> int:
    drawings = read_drawings(args.drawings)
    if not len(drawings):
        raise ValueError(f"{args.drawings} holds no drawings yet")
    guesses = predicted_labels(predict_proba(model, drawings.images))
    accuracy = 100.0 * float((guesses == drawings.intended).mean())
    scores = {"drawings": len(drawings), "drawings_acc": round(accuracy, 2)}
    return report_score(args, config, history, scores, f"accuracy on {len(drawings):,} drawings: {accuracy:.2f}%")


def drawings_command(args: argparse.Namespace) -> int:
    drawings = read_drawings(args.database)
    if args.npz:
        with open(args.npz, "wb") as file:  # the name as given: np.savez would add ".npz" to a path
            drawings.save_npz(file)
    per_digit = ", ".join(
        f"{digit}: {count}" for digit, count in enumerate(np.bincount(drawings.intended, minlength=10))
    )
    accuracy = "" if drawings.accuracy is None else f"; the room's model read {drawings.accuracy:.2f}% as meant"
    print(f"{len(drawings):,} drawings in {args.database}{accuracy}")
    print(f"digits meant: {per_digit}")
    if args.npz:
        print(f"wrote {args.npz}")
    return 0


def models_command(args: argparse.Namespace) -> int:
    folder = resolve_models_dir(args.models_dir, args.data_dir)
    if args.default or args.no_default:
        set_default(folder, None if args.no_default else args.default)
    entries = list_models(folder)
    if args.json:
        for entry in entries:
            checkpoint = entry.checkpoint
            row = {"name": entry.name, "default": entry.default, "problem": entry.problem or None}
            if checkpoint:
                row |= {"model": checkpoint.config.model, "epochs": len(checkpoint.history)}
                row |= {"test_acc": checkpoint.test_acc, "saved_at": checkpoint.saved_at}
            print(json.dumps(row), flush=True)
        return 0
    if not entries:
        print(f"no models in {folder}")
        return 0
    print(
        f"{folder}: {len(entries)} model{'s' if len(entries) != 1 else ''}; new page sessions start with "
        f"{default_name(folder) or 'an untrained model'}"
    )
    for entry in entries:
        mark = "*" if entry.default else " "
        checkpoint = entry.checkpoint
        if checkpoint is None:
            print(f"{mark} {entry.name}: {entry.problem}")
            continue
        accuracy = "untrained" if checkpoint.test_acc is None else f"test accuracy {checkpoint.test_acc:.2f}%"
        print(
            f"{mark} {entry.name}: {checkpoint.config.model}, {len(checkpoint.history)} epochs, {accuracy}, "
            f"saved {checkpoint.saved_at or 'at an unknown date'}"
        )
    return 0


def data_command(args: argparse.Namespace) -> int:
    destination = import_archives(args.source, resolve_data_dir(args.data_dir))
    print(f"imported the four MNIST archives into {destination}")
    return 0


COMMANDS = {
    "train": train_command,
    "sweep": sweep_command,
    "evaluate": evaluate_command,
    "drawings": drawings_command,
    "models": models_command,
    "data": data_command,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (DataError, CheckpointError, LibraryError, StoreError, TrainingOutOfMemory, ValueError, OSError) as error:
        print(f"mnistdemo: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mnistdemo: interrupted", file=sys.stderr)
        return 130
