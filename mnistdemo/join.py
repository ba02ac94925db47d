"""Joining the room: the link phones open, and its QR code (segno).

The presenter's browser usually shows the app as http://localhost:8501, which no phone can open; the
link uses the address this machine has on its network instead (or $MNISTDEMO_ROOM_URL, for a room
served through a proxy or a tunnel). No Streamlit here.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit, urlunsplit

import segno

ROOM_PATH = "room"  # the audience page's address under the app
URL_ENV = "MNISTDEMO_ROOM_URL"
LOCAL_NAMES = {"localhost", "0.0.0.0", "::", ""}
QR_ERROR_LEVEL = "m"  # 15% of the code may be unreadable (glare on a projected screen) and it still scans


def is_local_host(host: str) -> bool:
    """Whether `host` names this machine only (localhost, 127.x, ::1, ::ffff:127.0.0.1): useless to a phone."""
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def network_address() -> str | None:
    """This machine's address on its network (the interface its default route leaves by), or None
    when it has none. Connecting a UDP socket sends nothing; it only picks the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere, any default route will do
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if is_local_host(address) else address


def join_url(page_url: str | None, port: int, address: str | None = None, override: str | None = None) -> str | None:
    """The link phones open to reach the room page.

    `page_url` is the app's address in the presenter's browser (None when unknown); when it names
    this machine only, `address` (the network address) and `port` are used instead. `override` (or
    $MNISTDEMO_ROOM_URL) is the app's public address, taken as it is. None when no phone could reach
    the app (no network).
    """
    override = override if override is not None else os.environ.get(URL_ENV)
    if override:
        return f"{override.rstrip('/')}/{ROOM_PATH}"
    parts = urlsplit(page_url or "")
    base_path = parts.path.rstrip("/")
    if parts.hostname and not is_local_host(parts.hostname):
        return urlunsplit((parts.scheme or "http", parts.netloc, f"{base_path}/{ROOM_PATH}", "", ""))
    if address is None:
        return None
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}{base_path}/{ROOM_PATH}"


def qr_svg(url: str) -> str:
    """The link as a QR code in SVG: black modules on white, a quiet zone of four modules, and no fixed
    size (it fills whatever width the page gives it, crisp at any size)."""
    code = segno.make(url, error=QR_ERROR_LEVEL, micro=False)
    return code.svg_inline(scale=10, omitsize=True, dark="#000000", light="#ffffff", border=4)
