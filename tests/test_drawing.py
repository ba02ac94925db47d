"""canvas_to_mnist and inspect_canvas on hand-made canvases (Pillow drawings, no model, no data)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import mnistdemo
from mnistdemo.drawing import CanvasStatus, canvas_to_mnist, inspect_canvas, pen_width

# MNIST's digits: the longest side of the ink is 20 pixels, the centre of mass at 14.0 (pixel indices)
BOX_SIZE = 20
FIELD_CENTRE = 14.0

# Digits as strokes (polylines) in a unit box, x right and y down.
SEVEN = [[(0.15, 0.05), (0.85, 0.05), (0.35, 0.95)]]
FIVE = [[(0.8, 0.05), (0.25, 0.05), (0.2, 0.45), (0.6, 0.4), (0.8, 0.6), (0.7, 0.9), (0.2, 0.95)]]
# the same 5 with its top bar drawn as a separate stroke that does not touch the body
FIVE_IN_TWO_STROKES = [
    [(0.8, 0.05), (0.3, 0.05)],
    [(0.22, 0.12), (0.2, 0.45), (0.6, 0.4), (0.8, 0.6), (0.7, 0.9), (0.2, 0.95)],
]
ONE = [[(0.5, 0.0), (0.5, 1.0)]]


def draw(strokes, left, top, side, pen, size=(280, 280), ink="white", background="black") -> np.ndarray:
    """RGBA canvas pixels (H, W, 4) uint8 with the strokes drawn in the box (left, top, side) by a round pen."""
    image = Image.new("RGBA", size, background)
    pencil = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(left + x * side, top + y * side) for x, y in stroke]
        pencil.line(points, fill=ink, width=pen, joint="curve")
        for x, y in points:  # round caps
            pencil.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=ink)
    return np.asarray(image)


def blank(size=(280, 280), colour="black") -> np.ndarray:
    return np.asarray(Image.new("RGBA", size, colour))


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def ink_extent(image: np.ndarray) -> tuple[int, int]:
    """Rows and columns that hold any ink."""
    rows, cols = np.nonzero(image)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_exported_at_top_level():
    assert mnistdemo.canvas_to_mnist is canvas_to_mnist


def test_a_digit_comes_out_like_an_mnist_digit():
    digit = canvas_to_mnist(draw(SEVEN, 40, 40, 200, pen=16))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() == pytest.approx(1.0)
    assert max(ink_extent(digit)) == BOX_SIZE  # longest side 20, as MNIST's
    row, col = centre_of_mass(digit)
    assert abs(row - FIELD_CENTRE) <= 0.5 and abs(col - FIELD_CENTRE) <= 0.5
    assert 60 < digit.sum() < 150  # MNIST's test digits carry 104 on average


def test_empty_canvas_and_no_canvas_are_empty():
    for image_data in (blank(), None):
        verdict = inspect_canvas(image_data)
        assert verdict.status is CanvasStatus.EMPTY and verdict.image is None
        assert "draw" in verdict.message.lower()
    assert canvas_to_mnist(blank()) is None


@pytest.mark.parametrize("pen", [3, 12, 30])
def test_a_dot_is_too_little_ink(pen):
    verdict = inspect_canvas(draw([[(0.5, 0.5)]], 120, 120, 10, pen=pen))
    assert verdict.status is CanvasStatus.TOO_LITTLE_INK and verdict.image is None
    assert verdict.message


def test_a_short_dash_is_too_little_ink():
    assert inspect_canvas(draw([[(0.0, 0.5), (1.0, 0.5)]], 100, 100, 8, pen=3)).status is CanvasStatus.TOO_LITTLE_INK


def test_full_canvas_is_not_a_digit():
    verdict = inspect_canvas(blank(colour="white"), background="black")
    assert verdict.status is CanvasStatus.NOT_A_DIGIT and verdict.image is None
    assert "not a digit" in verdict.message


def test_nearly_full_canvas_is_not_a_digit():
    scribble = draw([[(0.0, 0.0), (1.0, 0.0), (0.0, 0.5), (1.0, 0.5), (0.0, 1.0), (1.0, 1.0)]], 30, 30, 220, pen=90)
    assert inspect_canvas(scribble, background="#000000").status is CanvasStatus.NOT_A_DIGIT
    assert canvas_to_mnist(scribble, background=(0, 0, 0)) is None


def test_a_canvas_hatched_all_over_is_not_a_digit():
    hatching = [[(0.0, y / 23), (1.0, y / 23)] for y in range(24)]  # 24 lines, 12 px apart, 2 px gaps
    verdict = inspect_canvas(draw(hatching, 0, 0, 276, pen=10), background="black")
    assert verdict.status is CanvasStatus.NOT_A_DIGIT and "nearly full" in verdict.message


def test_a_big_blot_is_not_a_digit():
    assert inspect_canvas(draw([[(0.5, 0.5)]], 100, 100, 10, pen=120)).status is CanvasStatus.NOT_A_DIGIT


def test_small_in_a_corner_and_large_in_the_centre_give_nearly_the_same_digit():
    small = canvas_to_mnist(draw(SEVEN, 8, 8, 60, pen=4))  # thin pen, top left corner
    large = canvas_to_mnist(draw(SEVEN, 30, 30, 220, pen=30))  # fat pen, filling the canvas
    other_digit = canvas_to_mnist(draw(FIVE, 30, 30, 220, pen=30))
    assert np.abs(small - large).mean() < 0.03
    assert np.abs(other_digit - large).mean() > 0.15  # what "different" looks like


@pytest.mark.parametrize("pen", [2, 8, 24])
def test_pen_width_hardly_matters(pen):
    reference = canvas_to_mnist(draw(FIVE, 40, 40, 200, pen=14))
    assert np.abs(canvas_to_mnist(draw(FIVE, 40, 40, 200, pen=pen)) - reference).mean() < 0.03


@pytest.mark.parametrize("left, pen", [(30, 4), (140, 10), (240, 30)])
def test_a_thin_one_stays_centred_and_upright(left, pen):
    one = canvas_to_mnist(draw(ONE, left - 100, 40, 200, pen=pen))  # a vertical line at x = left
    height, width = ink_extent(one)
    assert height == BOX_SIZE and width <= 4  # not stretched to a square
    assert np.abs(np.array(centre_of_mass(one)) - FIELD_CENTRE).max() <= 0.5
    columns = one.sum(axis=0)
    assert columns.max() > 0.6 * one.sum() / 2  # the ink stands in one or two columns: upright, not slanted


def test_strokes_in_several_pieces_are_all_kept():
    together = canvas_to_mnist(draw(FIVE, 40, 40, 200, pen=14))
    apart = canvas_to_mnist(draw(FIVE_IN_TWO_STROKES, 40, 40, 200, pen=14))
    assert np.abs(apart - together).mean() < 0.03
    assert apart[: 14 - 4].sum() > 10  # the separate top bar is there


@pytest.mark.parametrize(
    "ink, background",
    [("black", "white"), ("#3050ff", "#ffeecc"), ("#ff0000", "#00ff00")],
)
def test_any_pen_on_any_background_reads_the_same(ink, background):
    white_on_black = canvas_to_mnist(draw(SEVEN, 40, 40, 200, pen=16))
    coloured = canvas_to_mnist(draw(SEVEN, 40, 40, 200, pen=16, ink=ink, background=background))
    np.testing.assert_allclose(coloured, white_on_black, atol=1e-6)


def test_transparent_background_reads_the_same():
    opaque = draw(SEVEN, 40, 40, 200, pen=16)
    transparent = draw(SEVEN, 40, 40, 200, pen=16, ink="black", background=(0, 0, 0, 0))
    np.testing.assert_allclose(canvas_to_mnist(transparent), canvas_to_mnist(opaque), atol=1e-6)


@pytest.mark.parametrize("size", [(100, 100), (600, 300), (280, 560)])
def test_any_canvas_size(size):
    side = 0.8 * min(size)
    digit = canvas_to_mnist(
        draw(SEVEN, 0.1 * min(size), 0.1 * min(size), side, pen=max(2, round(side / 14)), size=size)
    )
    reference = canvas_to_mnist(draw(SEVEN, 40, 40, 200, pen=14))
    assert np.abs(digit - reference).mean() < 0.03


def test_rgb_and_grey_images_work_too():
    rgba = draw(SEVEN, 40, 40, 200, pen=16)
    expected = canvas_to_mnist(rgba)
    np.testing.assert_allclose(canvas_to_mnist(rgba[:, :, :3]), expected, atol=1e-6)
    np.testing.assert_allclose(canvas_to_mnist(rgba[:, :, 0]), expected, atol=1e-6)


@pytest.mark.parametrize(
    "bad, words",
    [(np.zeros((28, 28, 5), np.uint8), "shape"), (np.zeros((4,), np.uint8), "shape"), (np.zeros((28, 28, 4)), "uint8")],
)
def test_bad_arrays_are_refused_with_a_reason(bad, words):
    with pytest.raises(ValueError, match=words):
        canvas_to_mnist(bad)


def test_a_background_that_does_not_fit_is_refused():
    with pytest.raises(ValueError, match="background"):
        canvas_to_mnist(blank(), background=(0, 0, 0, 0, 0))


@pytest.mark.parametrize("width", [3, 8, 15])
def test_pen_width_of_a_bar_is_its_width(width):
    bar = np.zeros((60, 240), bool)
    bar[10 : 10 + width, 10:230] = True
    assert pen_width(bar) == pytest.approx(width, abs=1)


def test_pen_width_is_not_fooled_by_a_filled_loop():
    pen = 9
    with_blob = np.asarray(Image.fromarray(draw(FIVE, 20, 20, 200, pen=pen)).convert("L")) > 127
    with_blob[180:230, 20:90] = True  # a filled loop, seven pens wide
    assert pen_width(with_blob) == pytest.approx(pen, abs=1.5)


def test_a_stroke_thinner_than_the_rest_survives_thinning():
    fat_and_thin = draw(SEVEN, 40, 40, 200, pen=40)
    pencil = ImageDraw.Draw(image := Image.fromarray(fat_and_thin))
    pencil.line([(60, 160), (120, 160)], fill="white", width=6)  # a thin crossbar, off the fat strokes
    digit = canvas_to_mnist(np.asarray(image))
    assert digit[:, :8].sum() > 1.0  # the crossbar's left end is still there in the 28×28 digit
