"""What a hostile page can send instead of a drawing: `png_data_url` makes a PNG of any size (a
"canvas bomb") or bit depth without holding its pixels in memory."""

from __future__ import annotations

import base64
import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_data_url(width: int, height: int, bit_depth: int = 8, grey: bool = False) -> str:
    """A `data:image/png;base64,` URL of a PNG (RGBA, or grey without alpha), black with a white
    vertical bar (a 1) down the middle, as a canvas of that size would send it. Made row by row: a
    12000 × 12000 image takes a few hundred kilobytes to send and 576 MB to decode."""
    depth = bit_depth // 8  # bytes per channel
    black = b"\x00" + (b"\x00" * depth if grey else b"\x00" * 3 * depth + b"\xff" * depth) * width
    pixel = (len(black) - 1) // width
    bar = bytearray(black)
    left, right = width * 9 // 20, width * 11 // 20
    bar[1 + left * pixel : 1 + right * pixel] = b"\xff" * ((right - left) * pixel)
    compressor = zlib.compressobj(9)
    rows = [compressor.compress(bytes(bar) if height // 5 <= row < height * 4 // 5 else black) for row in range(height)]
    data = b"".join(rows) + compressor.flush()
    colour_type = 0 if grey else 6
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
