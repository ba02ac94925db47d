"""Canvas image: read the PNG a browser's canvas sends, refusing what no canvas sends before decoding it.

The drawing comes from the browser as a `data:image/png;base64,` URL, and any page can send any
URL there: a small file can hold a huge image (an 8000 × 8000 PNG of a few hundred kilobytes takes a
quarter of a gigabyte to decode), or no image at all. So the URL's length and the PNG's header
(its first 33 bytes: signature and IHDR) are checked first, and only an 8-bit image at most
`MAX_PIXEL_RATIO` times the canvas's size on each side is decoded (README, "Reliability").
Pure Python and Pillow: no user interface.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import struct
import zlib

import numpy as np
from PIL import Image

PREFIX = "data:image/png;base64,"
MAX_PIXEL_RATIO = 4  # a canvas exported at a screen's device pixel ratio (phones reach 3 or 3.5)
SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER_BYTES = 33  # signature (8), IHDR's length and type (8), its width, height, depth... (13), CRC (4)
PNG_OVERHEAD = 1.01  # uncompressible pixels grow a little in a PNG (deflate's stored blocks, chunks)
PNG_EXTRA_BYTES = 4096


class CanvasImageError(ValueError):
    """What was sent is not a drawing from the canvas; the message says so to the user."""


def max_data_url_length(width: int, height: int) -> int:
    """The longest data URL a canvas of `width` × `height` can send at `MAX_PIXEL_RATIO`: an RGBA PNG
    whose pixels did not compress at all, in base64."""
    rows, row_bytes = height * MAX_PIXEL_RATIO, 1 + 4 * width * MAX_PIXEL_RATIO  # a filter byte, then RGBA
    png_bytes = rows * row_bytes * PNG_OVERHEAD + PNG_EXTRA_BYTES
    return len(PREFIX) + 4 * math.ceil(png_bytes / 3)


def _refuse(why: str) -> CanvasImageError:
    return CanvasImageError(f"This drawing could not be read: {why}. Clear the canvas and draw again.")


def _check_header(data_url: str, width: int, height: int) -> None:
    """Refuse anything but an 8-bit PNG small enough for the canvas, from the URL's length and the
    PNG's first bytes."""
    if not isinstance(data_url, str) or not data_url.startswith(PREFIX):
        raise _refuse("the browser sent something other than a PNG image")
    if len(data_url) > max_data_url_length(width, height):
        raise _refuse(f"the browser sent {len(data_url) / 1e6:.1f} MB, far more than any drawing on this canvas")
    encoded_header = data_url[len(PREFIX) : len(PREFIX) + 4 * math.ceil(HEADER_BYTES / 3)]
    try:
        header = base64.b64decode(encoded_header, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("the browser sent something that is not base64") from None
    if len(header) < HEADER_BYTES or not header.startswith(SIGNATURE) or header[12:16] != b"IHDR":
        raise _refuse("the browser sent something other than a PNG image")
    image_width, image_height, bit_depth = struct.unpack(">IIB", header[16:25])
    if image_width > width * MAX_PIXEL_RATIO or image_height > height * MAX_PIXEL_RATIO:
        raise _refuse(
            f"the browser sent an image of {image_width} × {image_height} pixels, "
            f"far larger than the {width} × {height} canvas"
        )
    if bit_depth != 8:
        raise _refuse(f"the browser sent a {bit_depth}-bit image; canvases send 8-bit ones")


def read_canvas_png(data_url: str, width: int, height: int) -> np.ndarray:
    """The pixels (H, W, 4) uint8 RGBA of the PNG data URL a `width` × `height` canvas sent.

    Raises CanvasImageError, with a message for the user, for anything no such canvas sends: another
    kind of data, more bytes or pixels than the canvas can have at any device pixel ratio, another bit
    depth, a damaged file. The size and the header are checked before anything is decoded.
    """
    _check_header(data_url, width, height)
    try:
        png = base64.b64decode(data_url[len(PREFIX) :], validate=True)
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            return np.asarray(image.convert("RGBA"))
    except (binascii.Error, OSError, ValueError, SyntaxError, zlib.error, struct.error):  # Pillow's many ways
        raise _refuse("the image the browser sent is damaged") from None
