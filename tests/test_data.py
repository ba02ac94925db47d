import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import datasets

from mnistdemo import data
from mnistdemo.data import DataError, import_archives, load_mnist, resolve_data_dir


def idx_payload(path: Path, header_bytes: int) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(path.read_bytes(), dtype=np.uint8, offset=header_bytes).copy())


def test_load_mnist_reads_idx_files_into_float_tensors(synthetic_data_dir, synthetic_data):
    raw = synthetic_data_dir / "MNIST" / "raw"
    train_pixels = idx_payload(raw / "train-images-idx3-ubyte", 16).view(-1, 28, 28)
    test_pixels = idx_payload(raw / "t10k-images-idx3-ubyte", 16).view(-1, 28, 28)

    assert synthetic_data.train_images.shape == (300, 28, 28)
    assert synthetic_data.test_images.shape == (100, 28, 28)
    assert synthetic_data.train_images.dtype == torch.float32
    assert synthetic_data.train_labels.dtype == torch.int64
    assert torch.equal(synthetic_data.train_images, train_pixels.float() / 255)
    assert torch.equal(synthetic_data.test_images, test_pixels.float() / 255)
    assert torch.equal(synthetic_data.train_labels, idx_payload(raw / "train-labels-idx1-ubyte", 8).long())
    assert torch.equal(synthetic_data.test_labels, idx_payload(raw / "t10k-labels-idx1-ubyte", 8).long())
    assert set(synthetic_data.train_labels.tolist()) == set(range(10))


def test_resolve_data_dir_prefers_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "from-env"))
    assert resolve_data_dir(tmp_path / "given") == tmp_path / "given"
    assert resolve_data_dir() == tmp_path / "from-env"
    monkeypatch.delenv(data.DATA_DIR_ENV)
    assert resolve_data_dir() == data.DEFAULT_DATA_DIR


def test_missing_data_offline_says_how_to_import(tmp_path, no_network):
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path)

    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert f"python -m mnistdemo data --from FOLDER --data-dir {tmp_path}" in message
    assert "train-images-idx3-ubyte.gz" in message
    assert no_network, "torchvision should have tried to download before giving up"


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda content: content[:1000], "truncated: 1,000 bytes of 235,216"),
        (lambda content: content[:10], "truncated: 10 bytes"),
        (lambda content: b"not an IDX file at all" * 100, "its header is not that of an MNIST file"),
        (lambda content: content[:4] + (7).to_bytes(4, "big") + content[8:], "too long: 235,216 bytes of 5,504"),
    ],
    ids=["truncated, as an interrupted extraction leaves it", "truncated header", "garbage", "bogus header"],
)
def test_damaged_extracted_file_is_named_as_damaged(tmp_path, write_mnist, no_network, damage, why):
    raw = write_mnist(tmp_path / "MNIST" / "raw", compressed=False)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(damage(images.read_bytes()))

    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path)

    assert str(caught.value) == (
        f"MNIST in {raw} is damaged: train-images-idx3-ubyte ({why}). Import the four official archives again: "
        f"python -m mnistdemo data --from FOLDER --data-dir {tmp_path} (or delete {raw} to download them again)"
    )


def test_a_truncated_archive_is_named_as_damaged_not_missing(tmp_path, official_synthetic_archives, no_network):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.ARCHIVES:  # the archives copied in by hand, one cut short, none extracted yet
        (raw / name).write_bytes((official_synthetic_archives / name).read_bytes())
    archive = raw / "t10k-images-idx3-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:100])

    with pytest.raises(DataError, match="could not be downloaded") as missing:
        load_mnist(tmp_path / "elsewhere")
    with pytest.raises(DataError) as damaged:
        load_mnist(tmp_path / "data")

    assert "damaged" not in str(missing.value)
    assert str(damaged.value).startswith(
        f"MNIST in {raw} is damaged: t10k-images-idx3-ubyte.gz (not the official archive: truncated or altered). "
        "Import the four official archives again: python -m mnistdemo data --from FOLDER"
    )


def test_import_refuses_archives_with_the_wrong_md5_and_copies_nothing(tmp_path, write_mnist, no_network):
    source = write_mnist(tmp_path / "source")  # well-formed gzip'd IDX, but not the official bytes
    destination = tmp_path / "data"

    with pytest.raises(DataError) as caught:
        import_archives(source, destination)

    message = str(caught.value)
    assert "md5" in message and "nothing was imported" in message
    assert all(name in message for name in data.ARCHIVES)
    assert not destination.exists()


def test_import_names_the_one_corrupt_archive(tmp_path, write_mnist, monkeypatch):
    source = write_mnist(tmp_path / "source")
    monkeypatch.setattr(data, "ARCHIVES", {name: md5_of(source / name) for name in data.ARCHIVES})
    (source / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")

    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz in .* is not the official archive"):
        import_archives(source, tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_import_from_a_folder_without_the_archives(tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "train-images-idx3-ubyte.gz").write_bytes(b"")

    with pytest.raises(DataError, match="does not hold the MNIST archives: missing train-labels"):
        import_archives(tmp_path / "source", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def official_synthetic_archives(tmp_path, write_mnist, monkeypatch) -> Path:
    """Synthetic archives made "official" for both mnistdemo and torchvision, so that a whole import
    runs: md5 check, copy, and torchvision's verified extraction, all offline."""
    source = write_mnist(tmp_path / "source" / "MNIST" / "raw", train=40, test=20)
    official = {name: md5_of(source / name) for name in data.ARCHIVES}
    monkeypatch.setattr(data, "ARCHIVES", official)
    monkeypatch.setattr(datasets.MNIST, "resources", list(official.items()))
    return source


def test_import_copies_verified_archives_and_extracts_them(tmp_path, official_synthetic_archives, no_network):
    source, official = official_synthetic_archives, data.ARCHIVES

    destination = import_archives(tmp_path / "source", tmp_path / "data")  # finds MNIST/raw inside

    assert destination == tmp_path / "data" / "MNIST" / "raw"
    for name in official:
        assert (destination / name).read_bytes() == (source / name).read_bytes()
        extracted = (destination / name.removesuffix(".gz")).read_bytes()
        assert extracted == gzip.decompress((source / name).read_bytes())
    loaded = load_mnist(tmp_path / "data")
    assert loaded.train_images.shape == (40, 28, 28) and loaded.test_labels.shape == (20,)
    assert not no_network


def test_importing_again_repairs_a_damaged_extraction(tmp_path, official_synthetic_archives, no_network):
    import_archives(official_synthetic_archives, tmp_path / "data")
    labels = tmp_path / "data" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:10])
    with pytest.raises(DataError):
        load_mnist(tmp_path / "data")

    import_archives(official_synthetic_archives, tmp_path / "data")

    assert load_mnist(tmp_path / "data").test_labels.shape == (20,)
