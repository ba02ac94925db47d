"""Fixtures shared by the whole suite: tiny synthetic MNIST files, the real data set, no network."""

from __future__ import annotations

import gzip
import os
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.browser import chromium, missing_browser
from mnistdemo.config import TrainConfig
from mnistdemo.data import ARCHIVES, import_archives, load_mnist
from mnistdemo.training import Trainer

REPO = Path(__file__).resolve().parents[1]
# CI clones the repository somewhere else with ../shared beside it, as it is here.
SHARED_MNIST_RAW = REPO.parent / "shared" / "mnist" / "MNIST" / "raw"

SYNTHETIC_TRAIN = 300
SYNTHETIC_TEST = 100


def synthetic_digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (count, 28, 28) and labels uint8 (count,) that a small network can learn:
    label k is a bright vertical bar in column 4 + 2k over faint noise."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 10).astype(np.uint8)
    images = rng.integers(0, 60, size=(count, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels, strict=True):
        image[6:22, 4 + 2 * label] = rng.integers(180, 256)
    return images, labels


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000080<ndim>, big-endian int32 sizes, the data."""
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist_files(
    folder: Path, train: int = SYNTHETIC_TRAIN, test: int = SYNTHETIC_TEST, seed: int = 0, compressed: bool = True
) -> Path:
    """Write the four MNIST files with synthetic digits into `folder`, named as the official ones:
    gzip'd (`*.gz`, which do not match the official md5) or already extracted (no suffix, which
    torchvision loads as they are, without checking any md5 or touching the network)."""
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = synthetic_digits(train, seed)
    test_images, test_labels = synthetic_digits(test, seed + 1)
    arrays = [train_images, train_labels, test_images, test_labels]
    # ARCHIVES is in torchvision's order: train images, train labels, test images, test labels
    for name, array in zip(ARCHIVES, arrays, strict=True):
        if compressed:
            (folder / name).write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (folder / name.removesuffix(".gz")).write_bytes(idx_bytes(array))
    return folder


@pytest.fixture(scope="session")
def write_mnist():
    """`write_mnist_files(folder, train=, test=, seed=, compressed=)` for tests that need their own files."""
    return write_mnist_files


@pytest.fixture(scope="session")
def synthetic_data_dir(tmp_path_factory) -> Path:
    """A data folder holding tiny synthetic MNIST, already extracted, so load_mnist reads it offline."""
    data_dir = tmp_path_factory.mktemp("synthetic-mnist")
    write_mnist_files(data_dir / "MNIST" / "raw", compressed=False)
    return data_dir


@pytest.fixture(scope="session")
def synthetic_data(synthetic_data_dir):
    return load_mnist(synthetic_data_dir)


@pytest.fixture
def single_thread():
    """One torch thread for tests on tiny tensors: threads gain nothing there, and on a busy
    machine their spinning makes such tests several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Make every urllib request fail at once, as it does offline; the list records the URLs tried."""
    tried: list[str] = []

    def offline(request, *args, **kwargs):
        tried.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return tried


@pytest.fixture(
    params=[
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried"),
        MemoryError(),
    ],
    ids=["cuda", "cpu allocator", "python"],
)
def out_of_memory(request) -> BaseException:
    """Each way a device says it is out of memory: CUDA's error, torch's CPU allocator's, Python's."""
    return request.param


@pytest.fixture(scope="session")
def mnist_data_dir(tmp_path_factory) -> Path:
    """A writable data folder with the real MNIST, imported (md5-checked and extracted) from ../shared.

    Skips when ../shared/mnist is missing, except under CI, where that is a failure."""
    if not all((SHARED_MNIST_RAW / name).is_file() for name in ARCHIVES):
        message = f"the real MNIST archives are not in {SHARED_MNIST_RAW}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    data_dir = tmp_path_factory.mktemp("mnist")
    import_archives(SHARED_MNIST_RAW, data_dir)
    return data_dir


@pytest.fixture(scope="session")
def mnist_data(mnist_data_dir):
    return load_mnist(mnist_data_dir)


@pytest.fixture(scope="session")
def notebook_run(mnist_data) -> Trainer:
    """The notebook's run on the real data (seed model, 30 epochs, batch 256, Adam 3e-4), on the CPU
    with one torch thread, trained once for every test that reads it (about 15 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # this small model gains little from a second thread
    try:
        trainer = Trainer(mnist_data, TrainConfig(), torch.device("cpu"))
        trainer.run()
    finally:
        torch.set_num_threads(threads)
    return trainer


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), shared by the browser tests; skips where it is missing, except
    under CI, where that is a failure."""
    reason = missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with chromium() as browser:
        yield browser
