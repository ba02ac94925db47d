"""End to end in headless Chromium: train the notebook's model for a few epochs from the page, watch
the charts grow, then draw a 1 on the canvas and see the model's probability chart say 1; a page that
sends a huge image instead of its drawing gets a message, costing the server next to nothing; watch
the hidden units change while training, then click a cell of the confusion matrix to see those digits.

Runs `streamlit run app.py` on the real MNIST (a copy imported from ../shared). Screenshots and the
server's log go to tests/artifacts/ (git-ignored) for a look after a failure.
"""

from __future__ import annotations

import itertools
import re
import time

import numpy as np
import pytest

from harness.browser import (
    CANVAS_CHART_JS,
    REPO,
    canvas_chart_values,
    draw_stroke,
    send_fake_drawing,
    streamlit_server,
    vertical_stroke,
)
from harness.cpu import memory_bytes, peak_memory_bytes, reset_peak_memory, tree_cpu_seconds
from harness.drawings import png_data_url
from mnistdemo.drawing import MESSAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "tests" / "artifacts"
EPOCHS = 5  # a short run: the seed model then reads a plain vertical stroke as 1 (0.20 against 0.10 for the next)
MIN_TEST_ACCURACY = 80.0  # 5 epochs of the seed model reach 86.8 % (seed 0); untrained, it is about 10 %
TRAINING_TIMEOUT_S = 300  # 5 epochs take a few seconds here; a busy CI machine gets room
PAGE_TIMEOUT_MS = 60_000  # the first page load also loads MNIST

# How far the Train tab's charts reach along the epoch axis: the smoothed batch loss extends with
# every poll. Read from plotly's decoded `_fullData` (in `data`, NumPy arrays are still base64).
CHART_REACH_JS = """
() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')].flatMap(
  (plot) => (plot._fullData || []).flatMap((trace) => Array.from(trace.x || [], Number))))
"""

# Whether every progress bar on the page jumps to its value rather than animating there (each
# animation costs the browser CPU that the training beside it needs); None while there is none.
PROGRESS_BARS_STILL_JS = """
() => {
  const parts = [...document.querySelectorAll('[data-testid="stProgress"] *')];
  if (!parts.length) return null;
  return parts.every((el) => getComputedStyle(el).transitionDuration.split(',').every((d) => parseFloat(d) === 0));
}
"""


# The same bomb before the fix cost the server 7.6 CPU-seconds and 2.7 GB (README, "Reliability").
MAX_BOMB_CPU_S = 1.0
MAX_BOMB_MEMORY = 100_000_000


@pytest.fixture(scope="module")
def app(mnist_data_dir):
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(data_dir=mnist_data_dir, log_path=ARTIFACTS / "streamlit.log") as server:
        yield server


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(app.url)
    yield page
    page.screenshot(path=ARTIFACTS / "last.png")  # where the test ended, passed or not
    context.close()


def test_train_from_the_page_then_draw_a_one(page):
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)

    sidebar = page.get_by_test_id("stSidebar")
    train = sidebar.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    expect(page.get_by_text("Untrained: press Train")).to_be_visible()
    epochs = sidebar.get_by_role("slider", name="Epochs")
    epochs.focus()
    page.keyboard.press("Home")  # 1 epoch
    for _ in range(EPOCHS - 1):
        page.keyboard.press("ArrowRight")
    expect(sidebar.get_by_text(f"epochs 30 → {EPOCHS}")).to_be_visible()  # "Changed settings apply to the next run"

    train.click()
    finished = page.get_by_text("Training finished")
    reach_seen, bars_still = [], set()
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while not finished.is_visible():
        assert time.monotonic() < deadline, f"training did not finish in {TRAINING_TIMEOUT_S} s"
        reach_seen.append(page.evaluate(CHART_REACH_JS))
        bars_still.add(page.evaluate(PROGRESS_BARS_STILL_JS))
        page.wait_for_timeout(250)
    # 5 epochs take 2-3 s here and the page polls every 0.9 s: two changes mean the charts grew live
    steps = [after - before for before, after in itertools.pairwise(reach_seen) if after != before]
    assert len(steps) >= 2 and min(steps) > 0, f"the charts did not grow live; epochs reached: {reach_seen}"
    assert bars_still - {None} == {True}, "the progress bars must be shown during the run, without animation"

    notice = finished.inner_text()
    assert f"{EPOCHS} epochs in this run" in notice, notice
    accuracy = float(re.search(r"test accuracy ([\d.]+) %", notice).group(1))
    assert accuracy >= MIN_TEST_ACCURACY, notice
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "trained.png")

    page.get_by_role("tab", name="Draw").click()
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    expect(page.get_by_text(MESSAGES["empty"])).to_be_visible()
    assert canvas_chart_values(page) is None, "an empty canvas must show a hint, not a prediction"

    draw_stroke(page, vertical_stroke())
    page.wait_for_function(f"() => ({CANVAS_CHART_JS})() !== null")
    probabilities = np.array(canvas_chart_values(page))
    assert probabilities.shape == (10,)
    assert probabilities.argmax() == 1, (
        f"a vertical stroke was read as {probabilities.argmax()}: {probabilities.round(3)}"
    )
    top_guess = page.get_by_test_id("stMetric").filter(has_text="Top guess")
    expect(top_guess.get_by_test_id("stMetricValue")).to_have_text("1")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "drawn_one.png")


def test_a_canvas_bomb_from_the_browser_is_refused_before_it_is_decoded(page, app):
    """The page's canvases report a 12000 × 12000 PNG (831 KB) as their image, as a hostile page can."""
    from playwright.sync_api import expect

    bomb = png_data_url(12000, 12000)
    page.get_by_role("tab", name="Draw").click()
    expect(page.get_by_text(MESSAGES["empty"])).to_be_visible()
    page.wait_for_timeout(1000)  # the tab's first run is over
    reset_peak_memory(app.pid)
    memory, cpu = memory_bytes(app.pid), tree_cpu_seconds(app.pid)

    send_fake_drawing(page, bomb)
    refusal = page.get_by_text("This drawing could not be read")
    expect(refusal).to_be_visible()
    page.wait_for_timeout(500)  # the rest of that rerun
    cpu, peak = tree_cpu_seconds(app.pid) - cpu, peak_memory_bytes(app.pid) - memory

    assert "an image of 12000 × 12000 pixels, far larger than the 280 × 280 canvas" in refusal.inner_text()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert cpu < MAX_BOMB_CPU_S, f"the server spent {cpu:.2f} CPU-seconds on the bomb"
    assert peak < MAX_BOMB_MEMORY, f"the server's memory peaked {peak / 1e6:.0f} MB higher"

    send_fake_drawing(page, None)  # the real drawing again: read as always
    page.wait_for_function(f"() => ({CANVAS_CHART_JS})() !== null")
    expect(refusal).to_have_count(0)


# The confusion chart's cells, (true digit, guess, count) from its click targets' data, and where its
# plot area is on the screen.
CONFUSION_CHART_JS = """
() => {
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const targets = (plot._fullData || []).find((trace) => trace.type === 'scatter' && trace.customdata);
    if (!targets) continue;
    const area = plot.querySelector('.nsewdrag').getBoundingClientRect();
    return {
      cells: Array.from(targets.x, (x, i) => [Number(targets.y[i]), Number(x), Number(targets.customdata[i][0])]),
      area: {x: area.x, y: area.y, width: area.width, height: area.height},
    };
  }
  return null;
}
"""
UNIT_PICTURE_JS = "() => document.querySelector('[role=tabpanel] [data-testid=stImage] img')?.src ?? null"


def test_watch_the_hidden_units_form_then_click_a_confusion_cell_to_see_those_digits(page):
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name="Train", exact=True)).to_be_enabled()
    epochs = sidebar.get_by_role("slider", name="Epochs")
    epochs.focus()
    page.keyboard.press("Home")
    for _ in range(EPOCHS - 1):
        page.keyboard.press("ArrowRight")
    page.get_by_role("tab", name="Inside").click()
    page.wait_for_function(f"() => ({UNIT_PICTURE_JS})() !== null")

    sidebar.get_by_role("button", name="Train", exact=True).click()
    trained = sidebar.get_by_text(f"trained {EPOCHS} epochs")
    pictures = []
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while not trained.is_visible():
        assert time.monotonic() < deadline, f"training did not finish in {TRAINING_TIMEOUT_S} s"
        pictures.append(page.evaluate(UNIT_PICTURE_JS))
        page.wait_for_timeout(250)
    changes = sum(1 for before, after in itertools.pairwise(pictures) if after != before)
    assert changes >= 2, f"the hidden units were not redrawn while training ({changes} changes)"
    expect(page.get_by_text(f"Mistakes by class, after epoch {EPOCHS}")).to_be_visible()

    chart = page.evaluate(CONFUSION_CHART_JS)
    true_label, guess, count = max((cell for cell in chart["cells"] if cell[0] != cell[1]), key=lambda cell: cell[2])
    area = chart["area"]
    # off the cell's centre: anywhere in a cell must do
    page.mouse.click(
        area["x"] + area["width"] * (guess + 0.3) / 10, area["y"] + area["height"] * (true_label + 0.7) / 10
    )
    expect(page.get_by_role("tab", name="Test digits")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text(f"True {true_label} read as {guess}: {count:,} digit")).to_be_visible()
    tiles = page.get_by_role("button", name=re.compile(r"^\d → \d"))
    expect(tiles.first).to_be_visible()
    labels = {text.strip() for text in tiles.all_inner_texts()}
    assert labels == {f"{true_label} → {guess} ✗"}, labels
    assert tiles.count() == min(20, count)
    expect(page.get_by_text("Why this answer?")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "confusion_cell.png")
