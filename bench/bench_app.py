"""Benchmark the app in a real browser against baselines measured in the same run (issue 3).

1. Training: 30 seed epochs started with the page's Train button, a browser watching the live charts
   (click -> "Training finished" on screen), against `python -m mnistdemo train --json` (the
   trainer's own elapsed time, and the process's wall time). Target: app <= 1.3 x CLI. Then the same
   with the Inside tab open instead (hidden units redrawn at every poll, the confusion matrix after
   every epoch; click -> the sidebar says "trained 30 epochs"), against the same CLI runs (issue 9).
2. Drawing: release of a pen stroke -> the bar chart beside the canvas changed, timed inside the
   page (performance.now() at pointerup, then watching the plotly chart's data), in the app's Draw
   tab against bench/floor_canvas_app.py (only a canvas and a bar chart). Strokes alternate between
   the two pages; the canvas is cleared before each. Target: app <= 1.2 x floor. Then again with the
   Draw tab's "Why this answer?" switched on (issue 9).
3. Page load: navigation -> first meaningful content (the app's Train button, the floor's canvas)
   and -> first chart drawn, in a fresh browser session each time.

Run from the repository root:  .venv/bin/python -m bench.bench_app [--screenshot docs/screenshot.png]
    [--inside-screenshot docs/inside.png --why-screenshot docs/why.png]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo (see `python -m mnistdemo data`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import expect

from harness.browser import BAR_VALUES_JS, CANVAS_SCOPE_JS, REPO, chromium, draw_stroke, streamlit_server
from harness.cpu import cpu_by_process, process_tree, wait_for_idle_cpus
from mnistdemo.data import load_mnist, resolve_data_dir

OUT = REPO / "bench" / "out"
VIEWPORT = {"width": 1400, "height": 900}
TRAINING_TIMEOUT_MS = 1_800_000  # a busy machine can make 30 epochs very slow
CLEAR_CANVAS = "Reset canvas & history"  # the canvas toolbar's button, the same on both pages

# Pen strokes (canvas pixels, 280 x 280) shaped like digits, so that each one changes the chart.
STROKES = [
    [(140, 50), (140, 230)],  # 1
    [(80, 60), (200, 60), (120, 230)],  # 7
    [(90, 50), (90, 150), (200, 150), (200, 50), (200, 230)],  # 4
    [
        (140 + 60 * s, 140 + 90 * c)
        for s, c in [(0, -1), (0.7, -0.7), (1, 0), (0.7, 0.7), (0, 1), (-0.7, 0.7), (-1, 0), (-0.7, -0.7), (0, -1)]
    ],  # 0
    [(80, 90), (140, 50), (200, 90), (80, 230), (210, 230)],  # 2
]

# Installed in a page once: when the pen goes down on the canvas, remember the chart beside it; when
# it comes up, note the time and watch (DOM mutations, and every animation frame) until that chart's
# data differs. Clicks elsewhere (the Clear button) are not strokes.
STROKE_TIMER_JS = f"""
() => {{
  const canvasScope = {CANVAS_SCOPE_JS};
  const barValues = {BAR_VALUES_JS};
  const timer = {{ scope: null, baseline: null, latency: null }};
  window.__strokeTimer = timer;
  const chart = () => {{
    if (!timer.scope || !timer.scope.isConnected) timer.scope = canvasScope();
    return JSON.stringify(timer.scope && barValues(timer.scope));
  }};
  const onCanvas = (event) => event.composedPath()[0].classList?.contains('upper-canvas');
  let strokes = 0;
  window.addEventListener('pointerdown', (event) => {{
    if (!onCanvas(event)) return;
    timer.baseline = chart();
    timer.latency = null;
  }}, true);
  window.addEventListener('pointerup', (event) => {{
    if (!onCanvas(event)) return;
    const released = performance.now();
    const stroke = ++strokes;
    const check = () => {{
      if (stroke !== strokes || timer.latency !== null) return;
      const now = chart();
      if (now !== 'null' && now !== timer.baseline) {{
        timer.latency = performance.now() - released;
        observer.disconnect();
      }} else {{
        requestAnimationFrame(check);
      }}
    }};
    const observer = new MutationObserver(check);
    observer.observe(document.body, {{ subtree: true, childList: true, attributes: true, characterData: true }});
    requestAnimationFrame(check);
  }}, true);
}}
"""

SIDEBAR_TRAIN_VISIBLE_JS = """
() => [...document.querySelectorAll('[data-testid="stSidebar"] button')].some(
  (button) => button.innerText.trim() === 'Train' && button.getBoundingClientRect().height > 0) && performance.now()
"""
CANVAS_VISIBLE_JS = """
() => [...document.querySelectorAll('*')].some((el) => {
  const canvas = el.shadowRoot && el.shadowRoot.querySelector('canvas.upper-canvas');
  return canvas && canvas.getBoundingClientRect().height > 0;
}) && performance.now()
"""
CHART_DRAWN_JS = "() => !!document.querySelector('.js-plotly-plot .main-svg') && performance.now()"
INSIDE_DRAWN = "[data-testid=stImage] img"  # the Inside tab's hidden units
WHY_TOGGLE = "Why this answer? Where the model looks"  # the Draw tab's switch for the why section


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- CPU accounting (Linux /proc): who used the two cores while something was timed ---------------


class CpuMeter:
    """CPU seconds used by the app's server, the floor's server and the browser between start and stop."""

    def __init__(self, app_pid: int, floor_pid: int):
        self.roots = {"app server": app_pid, "floor server": floor_pid}
        self.before: dict[int, tuple[int, float]] = {}

    def start(self) -> None:
        self.before = cpu_by_process()

    def stop(self) -> dict[str, float]:
        after = cpu_by_process()
        groups = {name: process_tree(after, pid) for name, pid in self.roots.items()}
        servers = set().union(*groups.values())
        groups["browser"] = process_tree(after, os.getpid()) - servers - {os.getpid()}
        return {
            name: sum(after[pid][1] - self.before.get(pid, (0, 0.0))[1] for pid in pids)
            for name, pids in groups.items()
        }


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- 1. training -------------------------------------------------------------------------------


@dataclass
class CliRun:
    trainer_s: float  # the trainer's own elapsed time at epoch 30 (no start-up, no data loading)
    wall_s: float  # the whole process
    cpu_s: float
    test_acc: float


@dataclass
class AppRun:
    wall_s: float  # Train clicked -> "Training finished" on screen
    reported_s: float  # what the page says, whole seconds
    cpu_s: dict[str, float]
    notice: str


def train_cli(data_dir: Path) -> CliRun:
    """30 epochs of the notebook's model with the command line."""
    cpu_before, started = children_cpu_seconds(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mnistdemo", "train", "--json", "--data-dir", str(data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["epoch"] == 30, summary
    return CliRun(summary["elapsed_s"], wall, children_cpu_seconds() - cpu_before, summary["test_acc"])


def train_in_app(
    browser, url: str, meter: CpuMeter, tab: str = "Train", screenshot: Path | None = None
) -> tuple[AppRun, object]:
    """Open a fresh session on `tab`, press Train with the default settings, wait until the page says
    the run finished: the Train tab's "Training finished", or, in another tab, the sidebar's status
    (then save `tab` to `screenshot`). Returns the run and the page."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(url)
    sidebar = page.get_by_test_id("stSidebar")
    train = sidebar.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    if tab != "Train":
        page.get_by_role("tab", name=tab).click()
        page.locator(INSIDE_DRAWN).first.wait_for()
    meter.start()
    started = time.perf_counter()
    train.click()
    if tab == "Train":
        page.get_by_text("Training finished").wait_for(timeout=TRAINING_TIMEOUT_MS)
    else:
        sidebar.get_by_text(re.compile(r"trained 30 epochs")).wait_for(timeout=TRAINING_TIMEOUT_MS)
    wall = time.perf_counter() - started
    cpu = meter.stop()
    if screenshot:
        page.wait_for_timeout(2000)  # the whole page redrawn once the run ended
        full_height_screenshot(page, screenshot)
    if tab != "Train":
        page.get_by_role("tab", name="Train").click()
    notice = page.get_by_text("Training finished").inner_text()
    reported = re.search(r"(?:(\d+) min )?(\d+) s of training", notice)  # "7 s" or "2 min 05 s"
    reported_s = 60 * int(reported.group(1) or 0) + int(reported.group(2)) if reported else float("nan")
    return AppRun(wall, reported_s, cpu, notice), page


def full_height_screenshot(page, path: Path) -> None:
    """The whole page, however long (Streamlit scrolls its main area itself, not the window)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)  # no hover highlight
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height + 40)})
    page.wait_for_timeout(1500)  # charts resize to the new viewport
    page.screenshot(path=path)
    page.set_viewport_size(VIEWPORT)


# --- 2. drawing --------------------------------------------------------------------------------


def open_for_drawing(page) -> None:
    page.locator("canvas.upper-canvas").wait_for()
    page.evaluate(STROKE_TIMER_JS)


def stroke_latency(page, stroke: list[tuple[float, float]]) -> float:
    """Seconds from releasing the pen to the chart beside the canvas showing new data."""
    page.bring_to_front()
    page.get_by_role("button", name=CLEAR_CANVAS).click()
    page.wait_for_timeout(1000)  # let the rerun that clearing causes finish
    draw_stroke(page, stroke)
    latency_ms = page.wait_for_function("() => window.__strokeTimer.latency", timeout=30_000).json_value()
    page.wait_for_timeout(300)  # the rerun's last messages
    return latency_ms / 1000


def time_strokes(page, floor_page, meter: CpuMeter, strokes: int) -> tuple[list[float], list[float], dict[str, float]]:
    """Strokes in turns on the app's Draw tab and the floor page: their latencies, and the CPU they cost."""
    app_strokes, floor_strokes = [], []
    meter.start()
    for index in range(strokes):
        stroke = STROKES[index % len(STROKES)]
        app_strokes.append(stroke_latency(page, stroke))
        floor_strokes.append(stroke_latency(floor_page, stroke))
    return app_strokes, floor_strokes, meter.stop()


# --- 3. page load ------------------------------------------------------------------------------


def page_load(browser, url: str, first_content_js: str) -> tuple[float, float]:
    """(s to first meaningful content, s to the first chart drawn) from navigation start, in a new session."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url, wait_until="commit")
    first = page.wait_for_function(first_content_js, timeout=120_000).json_value()
    chart = page.wait_for_function(CHART_DRAWN_JS, timeout=120_000).json_value()
    context.close()
    return first / 1000, chart / 1000


# --- report ------------------------------------------------------------------------------------


def row(name: str, app: float, baseline: float, target: str = "") -> str:
    return f"| {name} | {app:.2f} | {baseline:.2f} | {app / baseline:.2f}× | {target} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    parser.add_argument("--rounds", type=int, default=2, help="training runs each of the CLI and the app")
    parser.add_argument("--strokes", type=int, default=10, help="strokes timed on each page")
    parser.add_argument("--loads", type=int, default=5, help="page loads timed for each page, after one cold load")
    parser.add_argument(
        "--screenshot", type=Path, help="also save the app after training here (e.g. docs/screenshot.png)"
    )
    parser.add_argument("--inside-screenshot", type=Path, help="the Inside tab after the last training run")
    parser.add_argument("--why-screenshot", type=Path, help="the Draw tab with a 7 drawn, the why section included")
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    load_mnist(data_dir)  # fail now, with the CLI's message, when the data is missing
    OUT.mkdir(parents=True, exist_ok=True)

    with (
        streamlit_server(data_dir=data_dir, log_path=OUT / "app.log") as app,
        streamlit_server(REPO / "bench" / "floor_canvas_app.py", log_path=OUT / "floor.log") as floor,
        chromium() as browser,
    ):
        meter = CpuMeter(app.pid, floor.pid)
        print("page loads…", file=sys.stderr)
        cold_app = page_load(browser, app.url, SIDEBAR_TRAIN_VISIBLE_JS)
        cold_floor = page_load(browser, floor.url, CANVAS_VISIBLE_JS)
        app_loads, floor_loads = [], []
        for _ in range(args.loads):
            app_loads.append(page_load(browser, app.url, SIDEBAR_TRAIN_VISIBLE_JS))
            floor_loads.append(page_load(browser, floor.url, CANVAS_VISIBLE_JS))

        cli_runs, app_runs, inside_runs = [], [], []
        for round_ in range(1, args.rounds + 1):
            print(f"training round {round_} of {args.rounds}: CLI…", file=sys.stderr)
            if not wait_for_idle_cpus():
                print("  (the machine did not get quiet)", file=sys.stderr)
            cli_runs.append(train_cli(data_dir))
            print(f"training round {round_} of {args.rounds}: app, Inside tab…", file=sys.stderr)
            if not wait_for_idle_cpus():
                print("  (the machine did not get quiet)", file=sys.stderr)
            last = round_ == args.rounds
            run, page = train_in_app(browser, app.url, meter, "Inside", args.inside_screenshot if last else None)
            inside_runs.append(run)
            page.context.close()
            print(f"training round {round_} of {args.rounds}: app…", file=sys.stderr)
            if not wait_for_idle_cpus():
                print("  (the machine did not get quiet)", file=sys.stderr)
            run, page = train_in_app(browser, app.url, meter)
            app_runs.append(run)
            print(f"  {run.notice}", file=sys.stderr)
            if round_ < args.rounds:
                page.context.close()
        page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)  # no hover highlight on the Train button
        page.screenshot(path=OUT / "app_trained.png")
        if args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot)

        print("strokes…", file=sys.stderr)
        page.get_by_role("tab", name="Draw").click()
        open_for_drawing(page)
        floor_page = browser.new_context(viewport=VIEWPORT).new_page()
        floor_page.goto(floor.url)
        open_for_drawing(floor_page)
        app_strokes, floor_strokes, stroke_cpu = time_strokes(page, floor_page, meter, args.strokes)
        page.screenshot(path=OUT / "app_drawn.png")
        floor_page.screenshot(path=OUT / "floor_drawn.png")
        print("strokes, with 'Why this answer?' on…", file=sys.stderr)
        page.get_by_text(WHY_TOGGLE).click()
        why_strokes, why_floor_strokes, why_cpu = time_strokes(page, floor_page, meter, args.strokes)
        if args.why_screenshot:
            stroke_latency(page, STROKES[1])  # a 7
            page.wait_for_timeout(2000)  # the why section below the bars
            full_height_screenshot(page, args.why_screenshot)

    cli_trainer = median([run.trainer_s for run in cli_runs])
    app_wall = median([run.wall_s for run in app_runs])
    print(
        f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end, OMP_WAIT_POLICY "
        f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}; medians of {args.rounds} training runs, {args.strokes} strokes "
        f"and {args.loads} warm page loads per page\n"
    )
    print("| measure | app (s) | baseline (s) | ratio | target |")
    print("|---|---|---|---|---|")
    print(
        row(
            "30 seed epochs: app, Train click → 'finished' on screen; CLI, trainer time",
            app_wall,
            cli_trainer,
            "≤ 1.3×",
        )
    )
    print(
        row(
            "30 seed epochs: app's reported training time (whole s); CLI, trainer time",
            median([r.reported_s for r in app_runs]),
            cli_trainer,
        )
    )
    print(
        row(
            "30 seed epochs, Inside tab open: app, click → 'trained 30 epochs'; CLI, trainer time",
            median([run.wall_s for run in inside_runs]),
            cli_trainer,
            "≤ 1.3×",
        )
    )
    print(
        row(
            "30 seed epochs, Inside tab open: app's reported training time (whole s); CLI, trainer time",
            median([r.reported_s for r in inside_runs]),
            cli_trainer,
        )
    )
    print(
        row(
            "30 seed epochs: app, click → 'finished'; CLI, whole process",
            app_wall,
            median([r.wall_s for r in cli_runs]),
        )
    )
    print(
        row(
            "stroke released → bar chart updated: app Draw tab; floor page",
            median(app_strokes),
            median(floor_strokes),
            "≤ 1.2×",
        )
    )
    print(
        row(
            "the same with 'Why this answer?' on: app Draw tab; floor page",
            median(why_strokes),
            median(why_floor_strokes),
        )
    )
    print(
        row(
            "page load → first content (app: Train button; floor: canvas)",
            median([a for a, _ in app_loads]),
            median([f for f, _ in floor_loads]),
        )
    )
    print(row("page load → first chart drawn", median([a for _, a in app_loads]), median([f for _, f in floor_loads])))
    print(row("cold first load → first content (the app loads MNIST)", cold_app[0], cold_floor[0]))
    print(f"\nCPU seconds used while training ({os.cpu_count()} CPUs):")
    for number, (cli, app_run, inside_run) in enumerate(zip(cli_runs, app_runs, inside_runs, strict=True), start=1):
        print(
            f"  round {number}: CLI process {cli.cpu_s:.1f} in {cli.wall_s:.1f} s (test {cli.test_acc:.2f} %); "
            + "; ".join(
                f"during the app's {run.wall_s:.1f} s ({tab} tab): "
                + ", ".join(f"{name} {seconds:.1f}" for name, seconds in run.cpu_s.items())
                for tab, run in (("Train", app_run), ("Inside", inside_run))
            )
        )
    for name, cpu in (("", stroke_cpu), (", 'Why this answer?' on", why_cpu)):
        print(
            f"CPU seconds per stroke{name}, clearing before it included: "
            f"app server {cpu['app server'] / args.strokes:.2f}, "
            f"floor server {cpu['floor server'] / args.strokes:.2f}, "
            f"browser (both pages) {cpu['browser'] / (2 * args.strokes):.2f}"
        )
    print("\nraw seconds:")
    print(f"  CLI trainer / process: {[f'{r.trainer_s:.2f}/{r.wall_s:.2f}' for r in cli_runs]}")
    print(f"  app click → finished / reported: {[f'{r.wall_s:.2f}/{r.reported_s:.0f}' for r in app_runs]}")
    inside = [f"{r.wall_s:.2f}/{r.reported_s:.0f}" for r in inside_runs]
    print(f"  app, Inside tab, click → finished / reported: {inside}")
    for tab, runs in (("Inside", inside_runs), ("Train", app_runs)):
        # each round against its own CLI run: the machine's speed drifts less within a round than across
        ratios = [run.wall_s / cli.trainer_s for run, cli in zip(runs, cli_runs, strict=True)]
        print(f"  {tab} tab ÷ CLI trainer, round by round: {[f'{r:.2f}' for r in ratios]}, median {median(ratios):.2f}")
    print(f"  strokes, app:   {[round(s, 3) for s in app_strokes]}")
    print(f"  strokes, floor: {[round(s, 3) for s in floor_strokes]}")
    print(f"  strokes, app, why on:   {[round(s, 3) for s in why_strokes]}")
    print(f"  strokes, floor, why on: {[round(s, 3) for s in why_floor_strokes]}")
    print(f"  loads (first content/chart), app: {[f'{a:.2f}/{b:.2f}' for a, b in app_loads]}")
    print(f"  loads (first content/chart), floor: {[f'{a:.2f}/{b:.2f}' for a, b in floor_loads]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
