"""A browser's side of Streamlit's protocol, without a browser: a websocket to `/_stcore/stream`
carrying protobuf `BackMsg`s (rerun the script with these widget states) and `ForwardMsg`s (the
elements of each run), as the page's JavaScript does.

Many simulated visitors fit in one process at a small CPU cost, which a real browser each would not
(ten headless Chromiums on two cores measure Chromium, not the app). What it leaves out is the
browser's own work: laying out and drawing what arrives. Widget ids are learnt from the elements,
as the page learns them.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

RUN_TIMEOUT_S = 60.0


class ProtocolError(RuntimeError):
    """The server answered something a browser would show as an error (or nothing at all)."""


@dataclass
class Run:
    """What one script run (or fragment run) sent: its elements, in order, with their arrival times."""

    started: float  # time.perf_counter() when the BackMsg was sent
    elements: list = field(default_factory=list)  # (arrival time, Element)
    blocks: list = field(default_factory=list)  # Block protos (containers, tabs)
    auto_reruns: list = field(default_factory=list)  # AutoRerun protos: fragments that poll
    status: str = ""

    def of_type(self, kind: str) -> list:
        """The elements of one kind ("button", "plotly_chart", "imgs", ...), as their own protos."""
        return [getattr(element, kind) for _, element in self.elements if element.WhichOneof("type") == kind]

    def first_arrival(self, kind: str) -> float | None:
        """Seconds from the request to the first element of `kind`, None when none came."""
        for arrived, element in self.elements:
            if element.WhichOneof("type") == kind:
                return arrived - self.started
        return None

    def widget_ids(self) -> set[str]:
        ids = set()
        for _, element in self.elements:
            inner = getattr(element, element.WhichOneof("type") or "", None)
            if getattr(inner, "id", ""):
                ids.add(inner.id)
        return ids | {block.tab_container.id for block in self.blocks if block.tab_container.id}

    def component(self, name: str):
        """The custom component (components v2) element named `name`, or None."""
        return next((c for c in self.of_type("bidi_component") if c.component_name == name), None)

    def button(self, label: str):
        return next((b for b in self.of_type("button") if b.label == label), None)

    def texts(self) -> list[str]:
        """Every markdown text and alert body, for checking what the page says."""
        return [e.body for e in self.of_type("markdown")] + [e.body for e in self.of_type("alert")]

    def exceptions(self) -> list[str]:
        return [f"{e.type}: {e.message}" for e in self.of_type("exception")]


class Session:
    """One browser session of the app: a websocket, the widget states its page would send, its page."""

    def __init__(self, url: str, page_name: str = ""):
        parts = urlsplit(url)
        self.stream_url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.page_url = f"{url.rstrip('/')}/{page_name}"
        self.page_name = page_name
        self.states: dict[str, WidgetState] = {}
        self._socket: ClientConnection | None = None

    async def __aenter__(self) -> Session:
        self._socket = await connect(self.stream_url, subprotocols=["streamlit"], max_size=None, open_timeout=30)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._socket.close()

    def set_json(self, widget_id: str, value: object) -> None:
        self.states[widget_id] = WidgetState(id=widget_id, json_value=json.dumps(value))

    def set_string(self, widget_id: str, value: str) -> None:
        self.states[widget_id] = WidgetState(id=widget_id, string_value=value)

    async def rerun(self, trigger: str | None = None, fragment_id: str = "", timeout_s: float = RUN_TIMEOUT_S) -> Run:
        """Rerun with the current widget states (and a button press, `trigger`); returns the run once the
        server says it finished. Widgets the run no longer shows are forgotten, as the page forgets them."""
        message = BackMsg()
        state: ClientState = message.rerun_script
        state.query_string = ""
        state.page_name = self.page_name
        state.fragment_id = fragment_id
        state.is_auto_rerun = bool(fragment_id)
        state.context_info.url = self.page_url
        state.widget_states.widgets.extend(self.states.values())
        if trigger is not None:
            state.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        run = Run(started=time.perf_counter())
        await self._socket.send(message.SerializeToString())
        await asyncio.wait_for(self._collect(run), timeout_s)
        if not fragment_id:
            alive = run.widget_ids()
            self.states = {key: value for key, value in self.states.items() if key in alive}
        return run

    async def _collect(self, run: Run) -> None:
        while True:
            data = await self._socket.recv()
            arrived = time.perf_counter()
            message = ForwardMsg()
            message.ParseFromString(data)
            kind = message.WhichOneof("type")
            if kind == "delta":
                delta = message.delta
                if delta.WhichOneof("type") == "new_element":
                    run.elements.append((arrived, delta.new_element))
                elif delta.WhichOneof("type") == "add_block":
                    run.blocks.append(delta.add_block)
            elif kind == "auto_rerun":
                run.auto_reruns.append(message.auto_rerun)
            elif kind == "script_finished":
                run.status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
                if run.status != "FINISHED_EARLY_FOR_RERUN":
                    return
            elif kind == "page_not_found":
                raise ProtocolError(f"page {self.page_name!r} not found")


async def http_get(url: str, timeout_s: float = 30.0) -> bytes:
    """One HTTP/1.1 GET (a media file the page would load), without a dependency."""
    parts = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout_s)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout_s)
    finally:
        writer.close()
    status = response.split(b"\r\n", 1)[0]
    if b" 200 " not in status:
        raise ProtocolError(f"GET {url}: {status.decode(errors='replace')}")
    return response.split(b"\r\n\r\n", 1)[1]
