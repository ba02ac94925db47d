"""Reading what the browser sent as the canvas's drawing: refused before decoding unless it is an
8-bit PNG no larger than the canvas can be at any device pixel ratio."""

import base64
import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from harness.drawings import png_data_url
from mnistdemo.canvas_image import MAX_PIXEL_RATIO, PREFIX, CanvasImageError, max_data_url_length, read_canvas_png

SIZE = 280
BIG = SIZE * MAX_PIXEL_RATIO


def as_data_url(pixels: np.ndarray) -> str:
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    return PREFIX + base64.b64encode(png.getvalue()).decode()


@pytest.mark.parametrize("side", [SIZE, BIG])
def test_a_canvas_drawing_at_any_pixel_ratio_is_read(side):
    pixels = read_canvas_png(png_data_url(side, side), SIZE, SIZE)
    assert pixels.shape == (side, side, 4) and pixels.dtype == np.uint8
    assert (pixels[side // 2, side // 2] == 255).all() and tuple(pixels[0, 0]) == (0, 0, 0, 255)


def test_any_8_bit_png_comes_back_as_rgba():
    grey = np.full((SIZE, SIZE), 200, dtype=np.uint8)
    np.testing.assert_array_equal(read_canvas_png(as_data_url(grey), SIZE, SIZE)[..., 0], grey)
    assert read_canvas_png(png_data_url(SIZE, SIZE, grey=True), SIZE, SIZE).shape == (SIZE, SIZE, 4)


def test_the_longest_data_url_allowed_holds_a_canvas_of_noise_at_the_largest_ratio():
    noise = np.random.default_rng(0).integers(0, 256, size=(BIG, BIG, 4), dtype=np.uint8)
    data_url = as_data_url(noise)
    assert len(data_url) <= max_data_url_length(SIZE, SIZE)
    np.testing.assert_array_equal(read_canvas_png(data_url, SIZE, SIZE), noise)


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda: png_data_url(BIG + 1, BIG), f"an image of {BIG + 1} × {BIG} pixels, far larger than the 280 × 280"),
        (lambda: png_data_url(12000, 12000), "an image of 12000 × 12000 pixels"),
        (lambda: png_data_url(SIZE, SIZE, bit_depth=16), "a 16-bit image; canvases send 8-bit ones"),
        (lambda: png_data_url(SIZE, SIZE, bit_depth=16, grey=True), "a 16-bit image"),
        (lambda: PREFIX + "!!!! not base64 ****", "something that is not base64"),
        (lambda: PREFIX + base64.b64encode(b"GIF89a, or anything else" * 10).decode(), "something other than a PNG"),
        (lambda: PREFIX + "iVBORw0KGgo=", "something other than a PNG image"),  # the signature alone
        (lambda: "data:image/jpeg;base64,/9j/4AAQ", "something other than a PNG image"),
        (lambda: "", "something other than a PNG image"),
        (lambda: None, "something other than a PNG image"),
        (lambda: PREFIX + "A" * 20_000_000, "20.0 MB, far more than any drawing on this canvas"),
        (lambda: png_data_url(SIZE, SIZE)[:400], "the image the browser sent is damaged"),
    ],
    ids=[
        "one pixel too wide",
        "12000 × 12000 bomb",
        "16-bit RGBA",
        "16-bit grey",
        "not base64",
        "not a PNG",
        "signature only",
        "JPEG",
        "empty",
        "not text",
        "20 MB",
        "truncated",
    ],
)
def test_anything_else_is_refused_with_a_message(make, why):
    data_url = make()  # made when the test runs: a bomb takes seconds to make
    tracemalloc.start()
    try:
        with pytest.raises(CanvasImageError) as caught:
            read_canvas_png(data_url, SIZE, SIZE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert why in str(caught.value)
    assert str(caught.value).startswith("This drawing could not be read: the ")
    assert str(caught.value).endswith(". Clear the canvas and draw again.")
    assert peak < 1_000_000, f"refusing took {peak:,} bytes: something was decoded"
