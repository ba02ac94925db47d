"""The room in headless Chromium, on the app as the README starts it: a phone (mobile emulation: a
phone's viewport, touch, events from its touch screen) draws a 1 with a finger and gets 1, and the
page does not scroll meanwhile though a finger elsewhere scrolls it; a narrow desktop window draws
with the mouse; the presenter's Room tab shows the QR code, shares its model and sees the phone's
drawing arrive on the wall. A protocol-level visitor (the load benchmark's) finds the room page too.

The room's model is trained here (the notebook's model, 5 epochs: it reads a plain vertical stroke as
1) and kept where a server that restarts finds it, so the server starts already serving it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re

import numpy as np
import pytest
import torch

from harness.browser import (
    CANVAS,
    REPO,
    draw_stroke,
    streamlit_server,
    touch_path,
    touch_stroke,
    vertical_stroke,
)
from harness.streamlit_client import Session
from mnistdemo.config import TrainConfig
from mnistdemo.join import ROOM_PATH
from mnistdemo.room import Room
from mnistdemo.room_store import read_drawings
from mnistdemo.training import Trainer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "tests" / "artifacts"
PAGE_TIMEOUT_MS = 60_000
PHONE = {
    "viewport": {"width": 393, "height": 851},
    "device_scale_factor": 2.75,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari",
}
NARROW_DESKTOP = {"viewport": {"width": 420, "height": 900}}
# The bar values of the room page's chart (its only chart), or null while there is none.
ROOM_CHART_JS = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  const bars = plot && (plot._fullData || []).find((trace) => trace.type === 'bar');
  return bars ? Array.from(bars.y, Number) : null;
}"""
# How far the page is scrolled, whichever element scrolls it (Streamlit scrolls its main area, not the
# window), and that element's overscroll behaviour; null when nothing on the page can scroll.
SCROLLER_JS = """() => {
  const scrollers = [document.scrollingElement, ...document.querySelectorAll('*')].filter(
    (el) => el.scrollHeight > el.clientHeight + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowY));
  return scrollers.length ? scrollers[0] : null;
}"""
SCROLLED_JS = f"() => {{ const el = ({SCROLLER_JS})(); return el ? el.scrollTop : null; }}"
OVERSCROLL_JS = f"() => getComputedStyle(({SCROLLER_JS})()).overscrollBehaviorY"


@pytest.fixture(scope="module")
def room_app(mnist_data, mnist_data_dir, tmp_path_factory):
    db = tmp_path_factory.mktemp("room") / "room.sqlite3"
    trainer = Trainer(mnist_data, TrainConfig(epochs=5), torch.device("cpu"))
    trainer.run()
    room = Room(db)
    room.share(trainer.model, trainer.config, trainer.history)
    room.store.close()
    ARTIFACTS.mkdir(exist_ok=True)
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("MNISTDEMO_ROOM_DB", str(db))
    monkeypatch.delenv("MNISTDEMO_ROOM_KEY", raising=False)
    try:
        with streamlit_server(data_dir=mnist_data_dir, log_path=ARTIFACTS / "streamlit-room.log") as server:
            yield server.url, db
    finally:
        monkeypatch.undo()


def open_room(browser, url: str, context_options: dict):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{url}/{ROOM_PATH}")
    page.locator(CANVAS).wait_for()
    page.wait_for_timeout(500)  # the canvas's first layout
    return page


def wait_for_chart(page) -> np.ndarray:
    page.wait_for_function(f"() => ({ROOM_CHART_JS})() !== null")
    return np.array(page.evaluate(ROOM_CHART_JS))


def test_a_phone_draws_a_1_with_a_finger_and_the_page_stays_put(browser, room_app):
    from playwright.sync_api import expect

    url, db = room_app
    page = open_room(browser, url, PHONE)
    box = page.locator(CANVAS).bounding_box()
    assert 330 <= box["width"] <= 393 and abs(box["width"] - box["height"]) < 1, box  # the screen's width

    touch_stroke(page, vertical_stroke())
    probabilities = wait_for_chart(page)
    assert probabilities.argmax() == 1, f"a vertical stroke was read as {probabilities.argmax()}: {probabilities}"
    expect(page.get_by_test_id("stMetric").get_by_test_id("stMetricValue")).to_have_text("1")
    page.screenshot(path=ARTIFACTS / "room_phone.png", full_page=True)

    before = page.evaluate(SCROLLED_JS)
    assert before == 0, "the page must be scrollable (the chart is below the fold) and at its top"
    assert page.evaluate(OVERSCROLL_JS) == "none"  # no pull-to-refresh mid-drawing
    touch_stroke(page, [(60, 60), (220, 220)])  # another stroke, now that the page can scroll
    page.wait_for_timeout(1000)
    assert page.evaluate(SCROLLED_JS) == before, "the page scrolled while the finger drew"
    assert page.evaluate("visualViewport.scale") == 1

    below = page.get_by_text("Which digit did you draw?").bounding_box()  # a finger on text scrolls the page
    touch_path(page, [(200, below["y"] - step * 30) for step in range(11)])
    page.wait_for_function(f"() => ({SCROLLED_JS})() > {before}")

    page.get_by_role("button", name="Clear the canvas").tap()  # the diagonal spoilt the 1: start again
    page.wait_for_function(f"() => ({ROOM_CHART_JS})() === null")
    page.locator(CANVAS).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    touch_stroke(page, vertical_stroke())
    assert wait_for_chart(page).argmax() == 1
    page.get_by_role("button", name="1", exact=True).tap()
    expect(page.get_by_text("Sent: you drew a 1 and the model read it right")).to_be_visible()
    assert read_drawings(db).intended.tolist()[-1] == 1
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_narrow_desktop_window_draws_with_the_mouse(browser, room_app):
    url, _ = room_app
    page = open_room(browser, url, NARROW_DESKTOP)
    box = page.locator(CANVAS).bounding_box()
    assert box["width"] <= 420 - 2 * 12

    draw_stroke(page, vertical_stroke())

    assert wait_for_chart(page).argmax() == 1
    page.screenshot(path=ARTIFACTS / "room_narrow.png", full_page=True)


def test_the_presenter_shows_the_qr_code_and_the_wall_follows_the_room(browser, room_app):
    from playwright.sync_api import expect

    url, db = room_app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url)
    page.get_by_role("tab", name="Room").click()
    expect(page.get_by_role("button", name="Share again (replaces the room's model)")).to_be_visible()
    qr = page.locator("img[src^='data:image/svg+xml']").first  # the QR code, as large as its column
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 400
    expect(page.get_by_role("link", name=f"/{ROOM_PATH}")).to_have_count(1)
    drawings = len(read_drawings(db))
    expect(page.get_by_test_id("stMetric").filter(has_text=re.compile(r"^Drawings"))).to_contain_text(str(drawings))

    phone = open_room(browser, url, PHONE)
    touch_stroke(phone, vertical_stroke())
    wait_for_chart(phone)
    phone.get_by_role("button", name="7", exact=True).tap()

    expect(page.get_by_test_id("stMetric").filter(has_text=re.compile(r"^Drawings"))).to_contain_text(str(drawings + 1))
    expect(page.get_by_text("7 → 1 ✗")).to_be_visible()  # on the wall within a poll
    page.screenshot(path=ARTIFACTS / "room_wall.png", full_page=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_protocol_level_visitor_finds_the_room_page(room_app):
    """The load benchmark's client: it must see what a phone sees, or the benchmark measures nothing."""
    url, _ = room_app

    async def visit():
        async with Session(url, ROOM_PATH) as visitor:
            run = await visitor.rerun()
            screen = run.component("mnistdemo.screen_width")
            visitor.set_json(screen.id, {"width": 393})
            run = await visitor.rerun()
            return run

    # in a thread of its own: the session's browser keeps Playwright's event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        run = thread.submit(asyncio.run, visit()).result()
    assert run.component("streamlit-drawable-canvas.streamlit_drawable_canvas") is not None
    assert run.button("7") is not None and not run.exceptions()
