"""How many phones one machine holds: N simulated visitors on the room page, each drawing a digit
every ~5 s, against one server started as the README starts it (issue 11).

Each visitor is a protocol-level client (harness/streamlit_client.py): a websocket speaking
Streamlit's protobuf messages, as the page's JavaScript does, in this one process. Per digit it
sends one stroke (the canvas's PNG, a synthetic drawing of an MNIST test digit at a phone's canvas
size), waits for the probability chart, loads the 28×28 input image the page shows, then about a
second later taps the digit it meant. The presenter's wall (the Room tab, polling every 2 s) is open
throughout, as in a talk. The server's CPU and memory are read from /proc for its process tree; the
clients' CPU is this process's own, reported apart.

Each level gets a fresh server, so that memory per visitor is not hidden by memory the previous
level freed. Before the first level the room's model is trained (the notebook's seed model, one CPU
thread) and kept where the server serves it from, as after the presenter shared it.

Run from the repository root:  .venv/bin/python -m bench.room_load [--visitors 10,25,50,75,100]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo; writes bench/out/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import random
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from harness.browser import REPO, streamlit_server
from harness.cpu import cpu_by_process, process_tree, tree_cpu_seconds
from harness.drawings import GENERATORS, PLAIN
from harness.streamlit_client import ProtocolError, Session, http_get
from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist, resolve_data_dir
from mnistdemo.join import ROOM_PATH
from mnistdemo.room import Room
from mnistdemo.training import Trainer, use_one_cpu_thread

OUT = REPO / "bench" / "out"
PHONE_WIDTH = 393  # CSS pixels: a common phone in portrait
CANVAS_SIZE = 369  # what the room page gives that phone (its width less the two margins)
CANVAS_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"
SCREEN_COMPONENT = "mnistdemo.screen_width"
DIGIT_EVERY_S = 5.0
TAP_AFTER_S = 1.0
DRAWINGS = 300  # distinct drawings, reused round-robin
RAMP_S = 5.0  # visitors join over this long, as a room does after the QR code goes up
TIMEOUT_S = 30.0  # a stroke without its chart by then is an error


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # stroke sent -> chart arrived, seconds
    taps: list[float] = field(default_factory=list)  # tap sent -> run finished
    errors: list[str] = field(default_factory=list)
    digits: int = 0
    right: int = 0
    measuring: bool = False
    stopped: bool = False


def canvas_drawings(count: int, seed: int) -> list[tuple[int, str]]:
    """(digit meant, PNG data URL) of synthetic drawings of MNIST test digits, at the phone's canvas size."""
    mnist = load_mnist()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(mnist.test_labels), count, replace=False)
    drawings = []
    for index in chosen:
        pixels = GENERATORS["skeleton"].draw(mnist.test_images[index].numpy(), PLAIN, rng).canvas
        image = Image.fromarray(pixels).resize((CANVAS_SIZE, CANVAS_SIZE), Image.Resampling.BILINEAR)
        png = io.BytesIO()
        image.save(png, format="PNG")
        drawings.append(
            (int(mnist.test_labels[index]), "data:image/png;base64," + base64.b64encode(png.getvalue()).decode())
        )
    return drawings


def share_a_trained_model(db_path: Path, epochs: int) -> None:
    """The presenter's model, as if trained on the page and shared: the notebook's seed model."""
    use_one_cpu_thread(torch.device("cpu"))
    trainer = Trainer(load_mnist(), TrainConfig(epochs=epochs), torch.device("cpu"))
    trainer.run()
    room = Room(db_path)
    room.share(trainer.model, trainer.config, trainer.history)
    room.store.close()
    print(f"room model: seed, {epochs} epochs, {trainer.history[-1].test_acc:.2f}% on MNIST test", flush=True)


async def visitor(url: str, drawings: list[tuple[int, str]], tally: Tally, first: int) -> None:
    try:
        async with Session(url, ROOM_PATH) as page:
            run = await page.rerun()
            screen = run.component(SCREEN_COMPONENT)
            if screen is None:
                raise ProtocolError(f"no screen reporter on the room page: {run.texts()[:3]}")
            page.set_json(screen.id, {"width": PHONE_WIDTH})
            run = await page.rerun()
            turn = first
            while not tally.stopped:
                await asyncio.sleep(random.uniform(0.8, 1.2) * (DIGIT_EVERY_S - TAP_AFTER_S))
                digit, data_url = drawings[turn % len(drawings)]
                turn += 1
                canvas = run.component(CANVAS_COMPONENT)
                if canvas is None:
                    raise ProtocolError(f"no canvas on the room page: {run.texts()[:3]} {run.exceptions()}")
                page.set_json(canvas.id, {"drawing": {"raw": {"objects": []}, "data": data_url}})
                run = await page.rerun(timeout_s=TIMEOUT_S)
                latency = run.first_arrival("plotly_chart")
                if latency is None or run.exceptions():
                    raise ProtocolError(f"a stroke got no chart: {run.exceptions() or run.texts()[-3:]}")
                for images in run.of_type("imgs"):
                    for image in images.imgs:
                        await http_get(url + image.url)
                guess = run.of_type("metric")[0].body if run.of_type("metric") else ""
                await asyncio.sleep(TAP_AFTER_S)
                button = run.button(str(digit))
                tapped = time.perf_counter()
                run = await page.rerun(trigger=button.id, timeout_s=TIMEOUT_S)
                if not any(text.startswith("Sent: ") for text in run.texts()):
                    raise ProtocolError(f"a tap was not kept: {run.texts()[-3:]} {run.exceptions()}")
                if tally.measuring:
                    tally.latencies.append(latency)
                    tally.taps.append(time.perf_counter() - tapped)
                    tally.digits += 1
                    tally.right += guess == str(digit)
    except (TimeoutError, ProtocolError, OSError) as error:
        tally.errors.append(f"{type(error).__name__}: {error}")
    except Exception as error:  # a closed websocket and the like: count it, keep the others going
        tally.errors.append(f"{type(error).__name__}: {error}")


async def presenter_wall(url: str, tally: Tally, ready: asyncio.Event) -> int:
    """The presenter's page with the Room tab open, polling as the browser does; returns the polls."""
    polls = 0
    try:
        async with Session(url) as page:
            run = await page.rerun()
            tabs = next(block.tab_container.id for block in run.blocks if block.tab_container.id)
            page.set_string(tabs, "Room")
            run = await page.rerun()
            if not run.auto_reruns:
                raise ProtocolError(f"the Room tab does not poll: {run.texts()[:3]} {run.exceptions()}")
            poll = run.auto_reruns[0]
            ready.set()
            while not tally.stopped:
                await asyncio.sleep(poll.interval)
                wall = await page.rerun(fragment_id=poll.fragment_id, timeout_s=TIMEOUT_S)
                if wall.exceptions():
                    raise ProtocolError(f"the wall failed: {wall.exceptions()}")
                polls += 1
    except Exception as error:
        tally.errors.append(f"wall: {type(error).__name__}: {error}")
        ready.set()
    return polls


def rss_bytes(root: int) -> int:
    total = 0
    for pid in process_tree(cpu_by_process(), root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def level(url: str, pid: int, visitors: int, drawings, measure_s: float, settle_s: float) -> dict:
    tally = Tally()
    ready = asyncio.Event()
    wall = asyncio.ensure_future(presenter_wall(url, tally, ready))
    await ready.wait()  # the presenter's page is open on the Room tab (MNIST and the model loaded)
    baseline_rss = rss_bytes(pid)
    tasks = []
    for number in range(visitors):
        tasks.append(asyncio.ensure_future(visitor(url, drawings, tally, first=number * 7)))
        await asyncio.sleep(RAMP_S / visitors)
    await asyncio.sleep(settle_s)
    tally.measuring = True
    server_before, client_before, began = tree_cpu_seconds(pid), client_cpu_seconds(), time.monotonic()
    await asyncio.sleep(measure_s)
    server_cpu = tree_cpu_seconds(pid) - server_before
    client_cpu = client_cpu_seconds() - client_before
    window = time.monotonic() - began
    peak_rss = rss_bytes(pid)
    tally.measuring = False
    tally.stopped = True
    await asyncio.gather(*tasks)
    polls = await wall
    latencies = sorted(tally.latencies)
    result = {
        "visitors": visitors,
        "digits": tally.digits,
        "digits_per_s": round(tally.digits / window, 2),
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "tap_p95_s": round(sorted(tally.taps)[int(0.95 * (len(tally.taps) - 1))], 3) if tally.taps else None,
        "errors": len(tally.errors),
        "error_examples": sorted(set(tally.errors))[:3],
        "server_cores": round(server_cpu / window, 3),
        "server_cpu_ms_per_digit": round(1000 * server_cpu / max(1, tally.digits), 1),
        "client_cores": round(client_cpu / window, 3),
        "server_rss_mb": round(peak_rss / 1e6, 1),
        "rss_mb_per_visitor": round((peak_rss - baseline_rss) / 1e6 / visitors, 2),
        "read_right_pct": round(100 * tally.right / max(1, tally.digits), 1),
        "wall_polls": polls,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", default="10,25,50,75,100", help="comma-separated levels")
    parser.add_argument("--measure-s", type=float, default=40.0)
    parser.add_argument("--settle-s", type=float, default=8.0)
    parser.add_argument("--data-dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30, help="of the room's model (the notebook's seed model)")
    args = parser.parse_args()
    if args.data_dir:
        os.environ["MNISTDEMO_DATA_DIR"] = str(args.data_dir)
    data_dir = resolve_data_dir(args.data_dir)
    random.seed(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    drawings = canvas_drawings(DRAWINGS, args.seed)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "room.sqlite3"
        share_a_trained_model(db_path, args.epochs)
        os.environ["MNISTDEMO_ROOM_DB"] = str(db_path)
        for visitors in [int(n) for n in args.visitors.split(",")]:
            log = OUT / f"room_load_{visitors}.log"
            with streamlit_server(data_dir=data_dir, log_path=log) as server:
                result = asyncio.run(level(server.url, server.pid, visitors, drawings, args.measure_s, args.settle_s))
            results.append(result)
            print(json.dumps(result), flush=True)
    (OUT / "room_load.json").write_text(json.dumps(results, indent=1))
    header = [
        "visitors", "digits/s", "p50 stroke→chart (s)", "p95 (s)", "max (s)", "errors", "server cores",
        "server CPU ms/digit", "client cores", "server RSS (MB)", "MB/visitor",
    ]  # fmt: skip
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for r in results:
        print(
            f"| {r['visitors']} | {r['digits_per_s']} | {r['p50_s']} | {r['p95_s']} | {r['max_s']} | {r['errors']} | "
            f"{r['server_cores']} | {r['server_cpu_ms_per_digit']} | {r['client_cores']} | {r['server_rss_mb']} | "
            f"{r['rss_mb_per_visitor']} |"
        )


if __name__ == "__main__":
    main()
