"""Ready for a talk, in headless Chromium on the app as the README starts it with a model file named
(`bash scripts/app.sh -- --model-file PATH`): the first drawing is read without training, a shared
link opens its settings and the address follows changes, presentation mode fits a 1280 x 720 wall,
and a chart downloads as a PNG with its title.

Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from harness.browser import CANVAS_CHART_JS, REPO, canvas_chart_values, draw_stroke, streamlit_server, vertical_stroke
from mnistdemo.config import TrainConfig
from mnistdemo.library import save_model
from mnistdemo.training import Trainer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "tests" / "artifacts"
PAGE_TIMEOUT_MS = 60_000
WALL = {"width": 1280, "height": 720}
QUICK = TrainConfig(model="zoo", epochs=2, batch_size=256, lr=1e-2)  # reads a vertical stroke as 1
LINK = "model=zoo&epochs=10&batch_size=64&lr=0.001&seed=0&augment=1&tab=draw"
MIN_WALL_TITLE_PX = 26  # chart titles in presentation mode (22 px on the page otherwise)


@pytest.fixture(scope="module")
def model_file(mnist_data, tmp_path_factory) -> Path:
    trainer = Trainer(mnist_data, QUICK, torch.device("cpu"))
    trainer.run()
    folder = tmp_path_factory.mktemp("models")
    return save_model(folder, "quick", trainer.model, trainer.config, trainer.history, trainer.training_state())


@pytest.fixture(scope="module")
def app_url(mnist_data_dir, model_file):
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "streamlit-talk.log"
    arguments = ["--", "--model-file", str(model_file)]  # after --: for app.py, not for streamlit
    with streamlit_server(data_dir=mnist_data_dir, log_path=log, extra_args=arguments) as server:
        yield server.url


@pytest.fixture
def open_page(browser, app_url):
    contexts = []

    def open_page(query: str = "", viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or {"width": 1400, "height": 900}, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(f"{app_url}/?{query}")
        page.get_by_role("button", name="Train", exact=True).wait_for()
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_the_model_named_at_start_reads_the_first_drawing(open_page):
    from playwright.sync_api import expect

    page = open_page("tab=draw")
    expect(page.get_by_test_id("stSidebar").get_by_text(f"trained {QUICK.epochs} epochs")).to_be_visible()
    page.locator("canvas.upper-canvas").wait_for()
    draw_stroke(page, vertical_stroke())
    page.wait_for_function(f"() => ({CANVAS_CHART_JS})() !== null")
    assert np.argmax(canvas_chart_values(page)) == 1
    top_guess = page.get_by_test_id("stMetric").filter(has_text="Top guess")
    expect(top_guess.get_by_test_id("stMetricValue")).to_have_text("1")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_shared_link_shows_its_settings_and_the_address_follows(open_page):
    from playwright.sync_api import expect

    page = open_page(LINK)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("radio", name="zoo")).to_be_checked()
    expect(sidebar.get_by_role("slider", name="Epochs")).to_have_value("10")
    expect(sidebar.get_by_role("slider", name="Batch size")).to_have_attribute("aria-valuetext", "64")
    expect(sidebar.get_by_role("slider", name="Learning rate")).to_have_attribute("aria-valuetext", "1e-3")
    expect(sidebar.get_by_role("switch", name=re.compile("Augment"))).to_be_checked()
    expect(page.get_by_role("tab", name="Draw")).to_have_attribute("aria-selected", "true")
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    assert page.url.endswith(f"?{LINK}")

    sidebar.get_by_role("slider", name="Epochs").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"epochs=11"))
    page.get_by_role("tab", name="Test digits").click()
    page.wait_for_url(re.compile(r"tab=test"))


def test_presentation_mode_fits_a_1280_by_720_wall(open_page):
    from playwright.sync_api import expect

    page = open_page("present=1", viewport=WALL)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("switch", name="Presentation mode")).to_be_checked()
    expect(sidebar.get_by_role("slider", name="Batch size")).to_be_hidden()  # folded into "More settings"
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS / "presentation-train.png")
    fits = page.evaluate(
        """() => ({
          page: document.documentElement.scrollWidth <= window.innerWidth,
          clipped: [...document.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stSidebar"] button')]
            .filter((el) => el.offsetWidth && el.scrollWidth > el.clientWidth + 1).map((el) => el.innerText),
          titles: [...document.querySelectorAll('.js-plotly-plot .gtitle')].map((t) => parseFloat(t.style.fontSize)),
        })"""
    )
    assert fits["page"] and fits["clipped"] == [], fits
    assert fits["titles"] and min(fits["titles"]) >= MIN_WALL_TITLE_PX, fits

    page.get_by_role("tab", name="Draw").click()
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box["width"] >= 400 and box["x"] + box["width"] <= WALL["width"], box
    draw_stroke(page, vertical_stroke())
    page.wait_for_function(f"() => ({CANVAS_CHART_JS})() !== null")
    page.screenshot(path=ARTIFACTS / "presentation-draw.png")


def test_a_chart_downloads_as_a_png_with_its_title(open_page):
    page = open_page("tab=train")
    chart = page.locator(".js-plotly-plot").first
    chart.hover()
    with page.expect_download() as download:
        chart.locator(".modebar-btn[data-title^='Download plot']").click()
    path = download.value.path()
    assert download.value.suggested_filename == "mnistdemo-loss_chart.png"
    image = Image.open(io.BytesIO(Path(path).read_bytes()))
    box = chart.bounding_box()
    assert image.format == "PNG" and image.width == pytest.approx(2 * box["width"], abs=4)
    title_band = np.asarray(image.convert("L"))[: image.height // 8]  # the title sits in the top eighth
    assert (title_band < 128).sum() > 500, "no dark title text at the top of the PNG"
