"""The room through Streamlit's AppTest, on the real MNIST: the presenter shares from the Room tab,
a second session on the room page reads drawings with exactly the presenter's model, sharing again
switches it, a tap keeps the drawing with the digit meant (and the visitor can take back only their
own), a drawing the phone should never send is refused and stores nothing, and the Room tab shows the
room's results only to the presenter.

The presenter's sessions run app.py; the visitors' run the room page's function (AppTest switches
only to pages that are files; the browser tests open /room through the app's navigation).
"""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from apptest_helpers import APP, RUN_TIMEOUT_S, texts
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnistdemo.room_store import read_drawings

ROOM_KEY = "s3cret"  # AppTest has no connection to come from this machine: the presenter gives the room key
PHONE_WIDTH = 390
CANVAS = 366  # PHONE_WIDTH less the room page's two 12-pixel margins


def room_page() -> None:
    from mnistdemo.ui import room_page

    room_page.render()


def png_data_url(pixels: np.ndarray) -> str:
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


def a_one(size: int = CANVAS) -> np.ndarray:
    pixels = np.zeros((size, size, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    pixels[size // 6 : size - size // 6, size // 2 - 12 : size // 2 + 12, :3] = 255
    return pixels


def a_fake_png(width: int, height: int) -> str:
    """A PNG header claiming `width` × `height`, then a little compressed nothing: what a page that
    overrides the canvas's export could send."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + header
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return "data:image/png;base64," + base64.b64encode(png + b"\x00" * 64).decode()


def draw(at: AppTest, data_url: str, generation: int = 0) -> AppTest:
    at.session_state[f"room_canvas_{CANVAS}_{generation}"] = {"drawing": {"raw": {"objects": []}, "data": data_url}}
    return at.run()


@pytest.fixture
def sessions(mnist_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(mnist_data_dir))
    monkeypatch.setenv("MNISTDEMO_ROOM_DB", str(tmp_path / "room.sqlite3"))
    monkeypatch.setenv("MNISTDEMO_ROOM_KEY", ROOM_KEY)
    monkeypatch.delenv("MNISTDEMO_ROOM_URL", raising=False)
    opened: list[AppTest] = []

    def open_session(kind: str) -> AppTest:
        if kind == "presenter":
            at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
            at.session_state["tab"] = "Room"
            at.query_params["room_key"] = ROOM_KEY
        else:
            at = AppTest.from_function(room_page, default_timeout=RUN_TIMEOUT_S)
            at.session_state["screen"] = {"width": PHONE_WIDTH}  # what the phone's browser reports
        opened.append(at.run())
        assert not at.exception, at.exception
        return at

    yield open_session
    for at in opened:
        if "job" in at.session_state:
            at.session_state["job"].stop()


def metric(at: AppTest, label: str):
    (found,) = [m for m in at.metric if m.label == label]
    return found


def test_a_visitor_reads_with_the_presenters_model_and_sharing_again_switches_it(sessions, tmp_path):
    visitor = sessions("visitor")
    assert "has not shared a model yet" in texts(visitor.info)[0]
    assert not visitor.button  # nothing to draw on yet
    presenter = sessions("presenter")
    assert presenter.button(key="share_with_room").label == "Share with the room"

    presenter.button(key="share_with_room").click().run()
    draw(visitor, png_data_url(a_one()))

    assert not visitor.exception, visitor.exception
    reading = visitor.session_state["room_reading"]
    job = presenter.session_state["job"]
    np.testing.assert_array_equal(reading.probabilities, job.predict_proba(reading.image[None])[0])
    assert metric(visitor, "The model reads").value == str(reading.guess)
    assert not visitor.sidebar.children or not any(visitor.sidebar.children.values())

    presenter.number_input(key="seed").set_value(7).run()
    presenter.button(key="reset").click().run()  # new weights in the presenter's session
    assert visitor.session_state["room_reading"].model.version == 1  # the room keeps its model until shared
    presenter.button(key="share_with_room").click().run()
    draw(visitor, png_data_url(a_one()))  # the next stroke

    after = visitor.session_state["room_reading"]
    assert after.model.version == 2
    np.testing.assert_array_equal(after.probabilities, job.predict_proba(after.image[None])[0])
    assert not np.array_equal(after.probabilities, reading.probabilities)


def test_a_tap_keeps_the_drawing_and_only_its_visitor_can_take_it_back(sessions, tmp_path):
    presenter = sessions("presenter")
    presenter.button(key="share_with_room").click().run()
    alice, bob = sessions("visitor"), sessions("visitor")
    draw(alice, png_data_url(a_one()))
    guess = alice.session_state["room_reading"].guess

    alice.button(key="meant_1").click().run()

    kept = read_drawings(tmp_path / "room.sqlite3")
    assert kept.intended.tolist() == [1] and kept.guesses.tolist() == [guess]
    assert "Sent: you drew a 1" in texts(alice.success)[0]
    assert alice.button(key="meant_1").disabled  # a new, empty canvas: nothing to send twice
    bob.session_state["room_sent"] = alice.session_state["room_sent"]  # Bob tries Alice's drawing's id
    bob.run()
    bob.button(key="room_take_back").click().run()
    assert len(read_drawings(tmp_path / "room.sqlite3")) == 1
    alice.button(key="room_take_back").click().run()
    assert len(read_drawings(tmp_path / "room.sqlite3")) == 0

    presenter.run()  # the wall: the drawing count and the room's accuracy
    assert metric(presenter, "Drawings").value == "0"


@pytest.mark.parametrize(
    ("data_url", "message"),
    [
        (lambda: a_fake_png(12000, 12000), "12000 × 12000 pixels"),
        (lambda: "data:image/png;base64,!!!! not base64 !!!!", "not base64"),
        (lambda: "data:text/html;base64,PGgxPmhpPC9oMT4=", "other than a PNG"),
        (lambda: "data:image/png;base64," + "A" * 16_000_000, "more than any drawing"),  # made when it runs
    ],
    ids=["bomb header", "garbage", "not a png", "oversized"],
)
def test_a_drawing_no_canvas_sends_is_refused_with_a_message_and_stores_nothing(sessions, tmp_path, data_url, message):
    presenter = sessions("presenter")
    presenter.button(key="share_with_room").click().run()
    visitor = sessions("visitor")

    draw(visitor, data_url())

    assert not visitor.exception, visitor.exception
    assert visitor.button(key="meant_3").disabled  # nothing to send
    assert message in texts(visitor.error)[0]
    assert visitor.session_state["room_reading"] is None
    assert len(read_drawings(tmp_path / "room.sqlite3")) == 0


def test_the_room_tab_shows_the_link_the_qr_code_and_the_rooms_results(sessions, tmp_path):
    presenter = sessions("presenter")
    assert [m.label for m in presenter.metric] == ["Drawings"]  # nothing shared yet
    presenter.button(key="share_with_room").click().run()
    visitors = [sessions("visitor") for _ in range(3)]
    for visitor, meant in zip(visitors, (1, 1, 7), strict=True):
        draw(visitor, png_data_url(a_one()))
        visitor.button(key=f"meant_{meant}").click().run()
    presenter.run()

    assert not presenter.exception, presenter.exception
    join = [text for text in texts(presenter.markdown) if text.startswith("### Join: [http://")]
    assert join and join[0].split("](")[0].endswith(":8501/room"), join  # AppTest's port; a network address
    assert metric(presenter, "Drawings").value == "3" and metric(presenter, "Drawings").delta == "by 3 people"
    guesses = read_drawings(tmp_path / "room.sqlite3").guesses
    expected = 100 * float(np.mean(guesses == np.array([1, 1, 7])))
    assert metric(presenter, "Room accuracy").value == f"{expected:.1f} %"
    assert metric(presenter, "MNIST test accuracy").value.endswith(" %")
    (chart,) = presenter.get("plotly_chart")
    assert '"type":"heatmap"' in chart.proto.spec.replace(" ", "")
    removes = [button for button in presenter.button if button.key and button.key.startswith("remove_")]
    assert len(removes) == 3

    removes[0].click().run()
    assert metric(presenter, "Drawings").value == "2" and len(read_drawings(tmp_path / "room.sqlite3")) == 2


def test_only_who_gives_the_room_key_may_present(sessions):
    presenter = sessions("presenter")
    stranger = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    stranger.session_state["tab"] = "Room"
    stranger.query_params["room_key"] = "guess"
    stranger.run()

    assert presenter.button(key="share_with_room")
    presenter.run()  # the address now follows the setup, without the key: the session keeps it
    assert "room_key" not in presenter.query_params and presenter.button(key="share_with_room")
    assert "run from the presenter's computer" in texts(stranger.info)[0]
    assert not [button for button in stranger.button if button.key == "share_with_room"]
    assert not stranger.get("plotly_chart") and not stranger.metric
    stranger.session_state["job"].stop()
