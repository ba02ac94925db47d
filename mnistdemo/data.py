"""Data: MNIST from torchvision, loaded once into resident float tensors.

torchvision verifies the md5 of each official archive and extracts it; after that the whole set
lives in memory (about 220 MB as float32), so training never touches PIL or the disk.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.utils import check_integrity

DATA_DIR_ENV = "MNISTDEMO_DATA_DIR"
DEFAULT_DATA_DIR = Path.home() / ".cache" / "mnistdemo"
ARCHIVES: dict[str, str] = dict(datasets.MNIST.resources)  # file name -> official md5
TRAIN_SIZE = 60_000  # digits in MNIST's training split
IDX_DIMENSIONS = {"images": 3, "labels": 1}  # by the word in the file's name


class DataError(Exception):
    """The data set cannot be had; the message says what to do."""


@dataclass(frozen=True)
class MnistData:
    """Images are float32 (N, 28, 28) in 0..1 with ink high; labels are int64 (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    def as_bytes(self) -> dict[str, np.ndarray]:
        """The four arrays as MNIST stores them, uint8 (a quarter of the floats' size): what goes to a cluster."""
        return {
            "train_images": np.rint(self.train_images.numpy() * 255).astype(np.uint8),
            "train_labels": self.train_labels.numpy().astype(np.uint8),
            "test_images": np.rint(self.test_images.numpy() * 255).astype(np.uint8),
            "test_labels": self.test_labels.numpy().astype(np.uint8),
        }

    @classmethod
    def from_bytes(cls, arrays: dict[str, np.ndarray]) -> MnistData:
        """`as_bytes`'s arrays (read-only ones too) back as the tensors `load_mnist` makes."""
        return cls(
            pixels_to_floats(torch.tensor(arrays["train_images"])),
            torch.tensor(arrays["train_labels"]).long(),
            pixels_to_floats(torch.tensor(arrays["test_images"])),
            torch.tensor(arrays["test_labels"]).long(),
        )


def pixels_to_floats(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float32 0..1, ink high (MNIST's own polarity)."""
    return pixels.float().div_(255)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder given, else $MNISTDEMO_DATA_DIR, else ~/.cache/mnistdemo."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser()


def raw_dir(data_dir: Path) -> Path:
    return data_dir / "MNIST" / "raw"


def missing_data_message(data_dir: Path) -> str:
    return (
        f"MNIST is not in {raw_dir(data_dir)} and could not be downloaded. "
        "Copy the four official archives (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into a folder and run: "
        f"python -m mnistdemo data --from FOLDER --data-dir {data_dir}"
    )


def reimport_advice(data_dir: Path) -> str:
    return (
        f"Import the four official archives again: python -m mnistdemo data --from FOLDER --data-dir {data_dir} "
        f"(or delete {raw_dir(data_dir)} to download them again)"
    )


def _idx_problem(path: Path) -> str | None:
    """Why an extracted IDX file cannot be one of MNIST's (None when its header and size agree)."""
    dimensions = next(count for word, count in IDX_DIMENSIONS.items() if word in path.name)
    header_size = 4 + 4 * dimensions  # magic, then one big-endian size per dimension
    size = path.stat().st_size
    if size < header_size:
        return f"truncated: {size} bytes"
    with open(path, "rb") as file:
        header = file.read(header_size)
    if header[:4] != struct.pack(">I", 0x0800 + dimensions):  # unsigned bytes in `dimensions` dimensions
        return "its header is not that of an MNIST file"
    expected = header_size + math.prod(struct.unpack(f">{dimensions}I", header[4:]))
    if size != expected:
        return f"{'truncated' if size < expected else 'too long'}: {size:,} bytes of {expected:,}"
    return None


def damaged_files(data_dir: Path) -> list[str]:
    """The MNIST files present in `data_dir` that cannot be right, each with why: an extracted file
    whose header and size disagree, or an archive (not yet extracted) that fails its md5."""
    raw = raw_dir(data_dir)
    problems = []
    for archive, md5 in ARCHIVES.items():
        extracted = raw / archive.removesuffix(".gz")
        if extracted.is_file():
            why = _idx_problem(extracted)
            if why:
                problems.append(f"{extracted.name} ({why})")
        elif (raw / archive).is_file() and not check_integrity(str(raw / archive), md5):
            problems.append(f"{archive} (not the official archive: truncated or altered)")
    return problems


def find_archives(folder: Path) -> Path:
    """The folder holding the four archives: `folder` itself or its `MNIST/raw/`."""
    for candidate in (folder, raw_dir(folder)):
        if all((candidate / name).is_file() for name in ARCHIVES):
            return candidate
    missing = [name for name in ARCHIVES if not (folder / name).is_file()]
    raise DataError(f"{folder} does not hold the MNIST archives: missing {', '.join(missing)}")


def import_archives(source: str | os.PathLike, data_dir: Path) -> Path:
    """Copy the four official archives from `source` into `data_dir`, refusing any that fail md5.

    Everything is checked before anything is copied, so a bad folder changes nothing.
    """
    source_dir = find_archives(Path(source).expanduser())
    corrupt = [name for name, md5 in ARCHIVES.items() if not check_integrity(str(source_dir / name), md5)]
    if corrupt:
        raise DataError(
            f"{', '.join(corrupt)} in {source_dir} "
            f"{'is not the official archive' if len(corrupt) == 1 else 'are not the official archives'}"
            " (md5 mismatch); nothing was imported"
        )
    destination = raw_dir(data_dir)
    destination.mkdir(parents=True, exist_ok=True)
    for name in ARCHIVES:
        shutil.copyfile(source_dir / name, destination / name)
        # torchvision extracts only what is missing: drop any earlier, perhaps half-written, extraction
        (destination / name.removesuffix(".gz")).unlink(missing_ok=True)
    load_mnist(data_dir)  # extract now, so the first training run starts at once
    return destination


def _load_split(data_dir: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    # torchvision reports downloads and extraction on stdout; keep stdout clean for --json.
    with contextlib.redirect_stdout(sys.stderr):
        split = datasets.MNIST(str(data_dir), train=train, download=True)
    return pixels_to_floats(split.data), split.targets.long()


def load_mnist(data_dir: str | os.PathLike | None = None) -> MnistData:
    """Load both splits, downloading and verifying the archives if they are not there yet."""
    folder = resolve_data_dir(data_dir)
    try:
        train_images, train_labels = _load_split(folder, train=True)
        test_images, test_labels = _load_split(folder, train=False)
    # missing and undownloadable, or damaged (torchvision's IDX reader then fails with any of these)
    except (RuntimeError, OSError, ValueError, AssertionError, TypeError, KeyError) as error:
        raise DataError(_load_failure_message(folder, error)) from error
    return MnistData(train_images, train_labels, test_images, test_labels)


def _load_failure_message(data_dir: Path, error: Exception) -> str:
    """Damaged files named as damaged; absent ones as absent; anything else as it is."""
    damaged = damaged_files(data_dir)
    if damaged:
        return f"MNIST in {raw_dir(data_dir)} is damaged: {'; '.join(damaged)}. {reimport_advice(data_dir)}"
    raw = raw_dir(data_dir)
    if not all((raw / name).is_file() or (raw / name.removesuffix(".gz")).is_file() for name in ARCHIVES):
        return missing_data_message(data_dir)
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"MNIST in {raw} could not be read ({reason}). {reimport_advice(data_dir)}"
