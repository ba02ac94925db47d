"""Ready in seconds (issue 10): from `streamlit run` to the first recognised drawing, offline.

Each round starts the app as the README's "Preparing a talk" does, `bash scripts/app.sh -- --model-file
MODEL` (plus a free port), with every download sent to a dead proxy (no network, as at a venue), a
browser already open; then opens the page's Draw tab, draws a vertical stroke as soon as the canvas
shows, and waits until the Top guess says 1. The baseline, in the same run and alternating with the
app: `streamlit run bench/floor_canvas_app.py` (a bare canvas and a bar chart), the same steps, until
its chart changes. Times are seconds from the start command:

    healthy    the server answers /_stcore/health
    canvas     the page shows its canvas
    read       the stroke's answer is on screen (for the app: Top guess 1; it never trained)

Run from the repository root:
    .venv/bin/python -m bench.talk --model-file PATH [--rounds 3] [--screenshot docs/presentation.png]
MODEL: a checkpoint, e.g. from `python -m mnistdemo train --model cnn --augment --save talk-cnn`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from harness.browser import (
    BAR_VALUES_JS,
    CANVAS_CHART_JS,
    REPO,
    chromium,
    draw_stroke,
    streamlit_server,
    vertical_stroke,
)
from harness.cpu import wait_for_idle_cpus
from mnistdemo.data import resolve_data_dir

FLOOR = REPO / "bench" / "floor_canvas_app.py"
DEAD_PROXY = "http://127.0.0.1:9"  # refuses at once: nothing can be downloaded
WALL = {"width": 1280, "height": 720}
SEVEN = [(75, 60), (205, 60), (185, 110), (125, 235)]  # canvas pixels of a 280 x 280 canvas
TIMEOUT_MS = 180_000
FLOOR_CHART_INKED_JS = f"""() => {{
  const values = ({BAR_VALUES_JS})(document);
  return values !== null && values.some((v) => v > 0);
}}"""


def offline() -> None:
    """Every download, by pip, torchvision or the browser, goes to a dead proxy; only this machine's
    own addresses are reached directly."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ[name] = DEAD_PROXY
    for name in ("no_proxy", "NO_PROXY"):
        os.environ[name] = "127.0.0.1,localhost"


def time_start(browser, data_dir: Path, model_file: Path | None, screenshot: Path | None = None) -> dict[str, float]:
    """One cold start: the app with `model_file`, or the floor page when it is None."""
    script, arguments = (None, ["--", "--model-file", str(model_file)]) if model_file else (FLOOR, [])
    started = time.perf_counter()
    with streamlit_server(script, data_dir=data_dir, extra_args=arguments, timeout_s=TIMEOUT_MS / 1000) as server:
        times = {"healthy": time.perf_counter() - started}
        context = browser.new_context(viewport=WALL)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{server.url}/?tab=draw&present=1" if model_file else server.url)
        page.locator("canvas.upper-canvas").wait_for()
        times["canvas"] = time.perf_counter() - started
        draw_stroke(page, vertical_stroke())
        if model_file:
            top_guess = page.get_by_test_id("stMetric").filter(has_text="Top guess").get_by_test_id("stMetricValue")
            top_guess.filter(has_text="1").wait_for()
        else:
            page.wait_for_function(FLOOR_CHART_INKED_JS)
        times["read"] = time.perf_counter() - started
        if screenshot:  # a 7 reads better in a picture than a 1
            page.get_by_role("button", name="Clear", exact=True).click()
            page.wait_for_function(f"() => ({CANVAS_CHART_JS})() === null")
            draw_stroke(page, SEVEN)
            top_guess.filter(has_text="7").wait_for()
            page.wait_for_timeout(1000)  # the chart's entrance
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot)
        context.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-file", type=Path, required=True)
    parser.add_argument(
        "--data-dir", type=Path, help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, help="also save the app's Draw tab in presentation mode here")
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    offline()
    rows = {"app": [], "floor": []}
    with chromium() as browser:
        for round_number in range(1, args.rounds + 1):
            for name, model in (("app", args.model_file.resolve()), ("floor", None)):
                wait_for_idle_cpus()
                shot = args.screenshot if name == "app" and round_number == args.rounds else None
                rows[name].append(time_start(browser, data_dir, model, shot))
                print(f"round {round_number} {name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in rows[name][-1].items()))
    print("\nmedians over", args.rounds, "rounds (seconds from the start command)")
    print("| step | app | bare canvas page | ratio |\n|---|---:|---:|---:|")
    for step in ("healthy", "canvas", "read"):
        app = statistics.median(row[step] for row in rows["app"])
        floor = statistics.median(row[step] for row in rows["floor"])
        print(f"| {step} | {app:.2f} | {floor:.2f} | {app / floor:.2f}x |")
    app_after_page = statistics.median(row["read"] - row["healthy"] for row in rows["app"])
    print(f"app, server healthy -> first drawing read: {app_after_page:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
