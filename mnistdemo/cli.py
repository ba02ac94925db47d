"""The command line: `python -m mnistdemo train`, `evaluate CHECKPOINT` and `data --from FOLDER`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from .checkpoint import Checkpoint, CheckpointError, save_checkpoint
from .config import TrainConfig
from .data import DataError, import_archives, load_mnist, resolve_data_dir
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
from .training import EpochResult, Trainer, default_device, evaluate, use_one_cpu_thread


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

    check = commands.add_parser("evaluate", help="test accuracy of a checkpoint saved by train --save")
    check.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file, or a model's name in the library")
    check.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    check.add_argument("--models-dir", help=MODELS_DIR_HELP)
    check.add_argument("--json", action="store_true", help="one JSON object on stdout")

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


def check_writable(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"cannot write a checkpoint to {path}: it is a folder")
    if not os.path.isdir(folder):
        raise ValueError(f"cannot write a checkpoint to {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write a checkpoint to {path}: {folder} is not writable")


def train_command(args: argparse.Namespace) -> None:
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

    if args.json:
        results = trainer.run(on_epoch=lambda r: print(json.dumps(r.as_dict()), flush=True))
    else:
        with tqdm(total=config.epochs, unit="epoch", desc=f"{config.model} on {device.type}") as bar:

            def show(result: EpochResult) -> None:
                bar.set_postfix(
                    loss=f"{result.loss:.4f}", train=f"{result.train_acc:.2f}%", test=f"{result.test_acc:.2f}%"
                )
                bar.update()

            results = trainer.run(on_epoch=show)
    final = results[-1]
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
            f"test accuracy {final.test_acc:.2f}% after {final.epoch} epochs in {final.elapsed_s:.1f} s"
            + (f"; saved {saved}" if saved else "")
        )


def check_library_save(folder: Path, name: str, replace: bool) -> None:
    if model_path(folder, name).exists() and not replace:
        raise LibraryError(f"the library in {folder} already holds a model named {check_name(name)!r} (add --replace)")
    check_writable(str(model_path(folder, name)) if folder.is_dir() else str(folder))


def read_model(given: str, models_dir: str | None, data_dir: str | None) -> Checkpoint:
    """A checkpoint file, else (for a bare name with no such file) a library model."""
    if is_library_name(given) and not os.path.exists(given):
        return load_named(resolve_models_dir(models_dir, data_dir), given)
    return load_file(given)


def evaluate_command(args: argparse.Namespace) -> None:
    checkpoint = read_model(
        args.checkpoint, args.models_dir, args.data_dir
    )  # before the data: a bad file fails at once
    model, config, history = checkpoint.model, checkpoint.config, checkpoint.history
    data = load_mnist(args.data_dir)
    loss, test_acc = evaluate(model, data.test_images, data.test_labels)
    result = {
        "checkpoint": args.checkpoint,
        "model": config.model,
        "epochs": len(history),
        "test_loss": round(loss, 4),
        "test_acc": round(test_acc, 2),
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"test accuracy {test_acc:.2f}% ({config.model} after {len(history)} epochs)")


def models_command(args: argparse.Namespace) -> None:
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
        return
    if not entries:
        print(f"no models in {folder}")
        return
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


def data_command(args: argparse.Namespace) -> None:
    destination = import_archives(args.source, resolve_data_dir(args.data_dir))
    print(f"imported the four MNIST archives into {destination}")


COMMANDS = {"train": train_command, "evaluate": evaluate_command, "models": models_command, "data": data_command}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (DataError, CheckpointError, LibraryError, ValueError, OSError) as error:
        print(f"mnistdemo: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mnistdemo: interrupted", file=sys.stderr)
        return 130
    return 0
