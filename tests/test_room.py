"""The room's engine: the shared model (share, republish, read-only, kept across a restart), the
drawings store (round trip, restart, refusals that store nothing, one visitor's drawing safe from
another), the `.npz` export, and the join link and its QR code."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest
import torch

from mnistdemo.config import TrainConfig
from mnistdemo.inference import predict_proba
from mnistdemo.join import ROOM_PATH, is_local_host, join_url, qr_svg
from mnistdemo.models import build_model
from mnistdemo.room import Room, may_present, model_path, resolve_db_path, weights_id
from mnistdemo.room_store import SCHEMA_VERSION, DrawingStore, StoreError, SubmissionError, read_drawings
from mnistdemo.training import EpochResult

pytestmark = pytest.mark.usefixtures("single_thread")


def a_model(seed: int, name: str = "seed") -> torch.nn.Module:
    return build_model(name, torch.Generator().manual_seed(seed))


def a_drawing(seed: int = 0) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[4:24, 12 + seed % 4 : 15 + seed % 4] = np.random.default_rng(seed).uniform(0.5, 1.0)
    return image


HISTORY = [EpochResult(epoch=1, loss=1.9, train_acc=80.0, test_acc=81.5, elapsed_s=1.0)]


@pytest.fixture
def room(tmp_path):
    room = Room(tmp_path / "room.sqlite3")
    yield room
    room.store.close()


def test_nothing_is_shared_at_first_and_a_share_reads_like_the_presenters_model(room):
    assert room.shared() is None and room.read(a_drawing()) is None
    presenters = a_model(1)

    shared = room.share(presenters, TrainConfig(), HISTORY)
    reading = room.read(a_drawing())

    np.testing.assert_array_equal(reading.probabilities, predict_proba(presenters, a_drawing()[None])[0])
    assert reading.model is shared and shared.version == 1 and shared.epochs == 1
    assert shared.weights_id == weights_id(presenters)


def test_the_shared_copy_is_frozen_and_does_not_follow_further_training(room):
    presenters = a_model(1)
    room.share(presenters, TrainConfig(), HISTORY)
    before = room.read(a_drawing()).probabilities
    with torch.no_grad():
        for parameter in presenters.parameters():
            parameter.add_(1.0)  # the presenter trains on

    assert not any(parameter.requires_grad for parameter in room.shared().model.parameters())
    assert not room.shared().model.training
    np.testing.assert_array_equal(room.read(a_drawing()).probabilities, before)


def test_sharing_again_switches_every_reader_to_the_new_model(room):
    room.share(a_model(1), TrainConfig(), HISTORY)
    first = room.read(a_drawing())
    second_model = a_model(2, "zoo")

    shared = room.share(second_model, TrainConfig.for_model("zoo"), [])
    after = room.read(a_drawing())

    assert shared.version == 2 and after.model.config.model == "zoo"
    np.testing.assert_array_equal(after.probabilities, predict_proba(second_model, a_drawing()[None])[0])
    assert not np.array_equal(after.probabilities, first.probabilities)


def test_many_threads_read_the_shared_model_at_once(room):
    presenters = a_model(3)
    room.share(presenters, TrainConfig(), HISTORY)
    expected = predict_proba(presenters, a_drawing()[None])[0]
    results, errors = [], []

    def visitor():
        try:
            for _ in range(20):
                results.append(room.read(a_drawing()).probabilities)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=visitor) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 160
    assert all(np.array_equal(result, expected) for result in results)


def test_a_restarted_server_serves_the_shared_model_and_keeps_every_drawing(tmp_path):
    db = tmp_path / "room.sqlite3"
    room = Room(db)
    presenters = a_model(4)
    room.share(presenters, TrainConfig(), HISTORY)
    ids = [room.keep(f"visitor-{n}", room.read(a_drawing(n)), intended=n % 10) for n in range(5)]
    kept = room.store.drawings()
    del room  # a killed server does not close its connection

    restarted = Room(db)

    assert restarted.shared().weights_id == weights_id(presenters)
    again = restarted.store.drawings()
    assert again.ids.tolist() == ids and restarted.store.counts() == (5, 5)
    np.testing.assert_array_equal(again.images, kept.images)
    np.testing.assert_array_equal(again.probabilities, kept.probabilities)
    assert again.intended.tolist() == [0, 1, 2, 3, 4]
    assert set(again.model_ids) == {weights_id(presenters)} and set(again.models) == {"seed"}


def test_a_damaged_model_file_leaves_the_room_waiting_with_the_reason(tmp_path):
    db = tmp_path / "room.sqlite3"
    model_path(db).write_bytes(b"not a checkpoint")
    room = Room(db)
    assert room.shared() is None and "not a readable checkpoint" in room.restore_problem


def test_a_drawing_round_trips_with_what_the_visitor_saw(room):
    room.share(a_model(5), TrainConfig(), HISTORY)
    reading = room.read(a_drawing(7))

    drawing_id = room.keep("visitor-a", reading, intended=3)
    stored = room.store.drawings()

    assert stored.ids.tolist() == [drawing_id]
    np.testing.assert_array_equal(stored.images[0], a_drawing(7))
    np.testing.assert_array_equal(stored.probabilities[0], reading.probabilities)
    assert stored.intended[0] == 3 and stored.guesses[0] == reading.guess
    assert stored.accuracy == (100.0 if reading.guess == 3 else 0.0)


BAD_SUBMISSIONS = {
    "wrong shape": ({"image": np.zeros((28, 27))}, "must be 28 × 28"),
    "a number": ({"image": 0.5}, "must be 28 × 28"),
    "huge": ({"image": np.ones((4000, 4000), dtype=np.uint8)}, "must be 28 × 28"),
    "pixels out of range": ({"image": np.full((28, 28), 255.0)}, "between 0 and 1"),
    "nan": ({"image": np.full((28, 28), np.nan)}, "between 0 and 1"),
    "empty": ({"image": np.zeros((28, 28))}, "empty"),
    "digit 10": ({"intended": 10}, "one of 0–9"),
    "digit text": ({"intended": "7"}, "one of 0–9"),
    "digit True": ({"intended": True}, "one of 0–9"),
    "nine probabilities": ({"probabilities": np.full(9, 1 / 9)}, "ten probabilities"),
    "probabilities not summing to 1": ({"probabilities": np.full(10, 0.5)}, "add up to 1"),
    "no visitor": ({"visitor": ""}, "visitor"),
}


@pytest.mark.parametrize("case", BAD_SUBMISSIONS, ids=list(BAD_SUBMISSIONS))
def test_a_bad_submission_is_refused_with_a_message_and_stores_nothing(room, case):
    good = {
        "visitor": "v",
        "image": a_drawing(),
        "intended": 1,
        "probabilities": np.full(10, 0.1),
        "model": "seed",
        "model_id": "abc",
    }
    change, message = BAD_SUBMISSIONS[case]
    with pytest.raises(SubmissionError, match=message):
        room.store.add(**{**good, **change})
    assert room.store.counts() == (0, 0)
    room.store.add(**good)  # the same store still takes a good one
    assert room.store.counts() == (1, 1)


def test_a_visitor_can_take_back_only_their_own_drawing_and_the_presenter_any(room):
    room.share(a_model(6), TrainConfig(), HISTORY)
    mine = room.keep("alice", room.read(a_drawing(1)), 1)
    theirs = room.keep("bob", room.read(a_drawing(2)), 1)

    assert not room.store.take_back(theirs, "alice")
    assert room.store.drawings().ids.tolist() == [mine, theirs]
    assert room.store.take_back(mine, "alice")
    assert room.store.remove(theirs)
    assert room.store.counts() == (0, 0)


def test_latest_drawings_and_the_drawings_of_one_model(room):
    room.share(a_model(7), TrainConfig(), HISTORY)
    first = [room.keep("v", room.read(a_drawing(n)), 1) for n in range(3)]
    shared = room.share(a_model(8), TrainConfig(), HISTORY)
    second = [room.keep("v", room.read(a_drawing(n)), 1) for n in range(2)]

    assert room.store.drawings(latest=2).ids.tolist() == second
    meant, guesses = room.store.answers(shared.weights_id)
    assert meant.tolist() == [1, 1] and guesses.tolist() == room.store.drawings(latest=2).guesses.tolist()
    assert [len(part) for part in room.store.answers("no-such-model")] == [0, 0]
    assert room.store.drawings().of_model(shared.weights_id).ids.tolist() == second
    assert len(room.store.drawings()) == len(first) + len(second)


def test_export_as_npz_and_read_only_opening(room, tmp_path):
    room.share(a_model(9), TrainConfig(), HISTORY)
    for n in range(4):
        room.keep("v", room.read(a_drawing(n)), n)
    room.store.drawings().save_npz(tmp_path / "drawings.npz")

    exported = np.load(tmp_path / "drawings.npz")
    read = read_drawings(room.db_path)  # while the server's connection is still open

    assert exported["images"].shape == (4, 28, 28) and exported["labels"].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(exported["images"], read.images)
    np.testing.assert_array_equal(exported["probabilities"], read.probabilities)
    assert exported["guesses"].tolist() == read.guesses.tolist()
    assert exported["models"].tolist() == ["seed"] * 4


def test_the_database_is_wal_with_one_table_and_its_schema_version(room):
    db = sqlite3.connect(room.db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["drawings"]


def test_files_that_are_not_a_rooms_database_are_refused(tmp_path):
    (tmp_path / "text.db").write_text("hello, this is not sqlite at all" * 100)
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE people (name TEXT)")
    other.commit()
    newer = sqlite3.connect(tmp_path / "newer.db")
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.commit()

    with pytest.raises(StoreError, match="cannot use"):
        DrawingStore(tmp_path / "text.db")
    with pytest.raises(StoreError, match="something else"):
        DrawingStore(tmp_path / "other.db")
    with pytest.raises(StoreError, match="newer mnistdemo"):
        DrawingStore(tmp_path / "newer.db")
    with pytest.raises(StoreError, match="no folder"):
        DrawingStore(tmp_path / "missing" / "room.sqlite3")
    with pytest.raises(StoreError, match="no drawings database"):
        read_drawings(tmp_path / "absent.sqlite3")


def test_the_database_lives_beside_the_data_unless_told(tmp_path, monkeypatch):
    monkeypatch.delenv("MNISTDEMO_ROOM_DB", raising=False)
    monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(tmp_path / "data"))
    assert resolve_db_path() == tmp_path / "data" / "room.sqlite3"
    monkeypatch.setenv("MNISTDEMO_ROOM_DB", str(tmp_path / "talk.db"))
    assert resolve_db_path() == tmp_path / "talk.db"
    assert model_path(tmp_path / "talk.db") == tmp_path / "talk-model.pt"


def test_the_join_link_uses_an_address_phones_can_reach(monkeypatch):
    monkeypatch.delenv("MNISTDEMO_ROOM_URL", raising=False)
    assert join_url("http://localhost:8501/", 8501, "192.168.1.20") == f"http://192.168.1.20:8501/{ROOM_PATH}"
    assert join_url("http://127.0.0.1:8600/talk", 8600, "10.0.0.5") == "http://10.0.0.5:8600/talk/room"
    assert join_url("http://laptop.local:8501/", 8501, "10.0.0.5") == "http://laptop.local:8501/room"
    assert join_url("http://localhost:8501/", 8501, None) is None  # no network: no link to give
    assert join_url(None, 8501, "fe80::1") == "http://[fe80::1]:8501/room"
    monkeypatch.setenv("MNISTDEMO_ROOM_URL", "https://talk.example.org/")
    assert join_url("http://localhost:8501/", 8501, "10.0.0.5") == "https://talk.example.org/room"
    assert is_local_host("::1") and is_local_host("127.0.1.1") and is_local_host("::ffff:127.0.0.1")
    assert not is_local_host("10.0.0.5") and not is_local_host("::ffff:10.0.0.5")


def test_the_qr_code_is_a_scalable_svg_of_the_link():
    svg = qr_svg("http://192.168.1.20:8501/room")
    assert svg.startswith("<svg") and "viewBox" in svg and "width=" not in svg.split(">")[0]
    longer = qr_svg("http://192.168.1.20:8501/room?" + "x" * 200)
    assert svg != longer


def test_only_this_machine_or_the_holder_of_the_room_key_may_present():
    assert may_present(None, None, key="")  # the presenter's own browser, on the server's machine
    assert may_present("::ffff:127.0.0.1", None, key="") and may_present("::1", None, key="")
    assert not may_present("192.168.1.31", None, key="")  # a phone in the room
    assert not may_present("192.168.1.31", "guess", key="s3cret")
    assert not may_present(None, None, key="s3cret")  # behind a proxy everyone looks local: the key decides
    assert may_present("192.168.1.31", "s3cret", key="s3cret")
