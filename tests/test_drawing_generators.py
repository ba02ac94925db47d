"""The synthetic-drawing generators (harness/drawings): each is deterministic per seed and draws the
digit it is asked to, in its own way. Digits here are hand-made 28×28 images, no data set."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

from harness.drawings import GENERATORS, HANDS, MOUSE, PLAIN, draw_set
from harness.drawings import generators as gen
from harness.drawings.pen import CANVAS_SIZE
from harness.drawings.pointer import overshoot_corners, pointer_events
from harness.drawings.skeleton import skeleton_graph, trace_strokes
from mnistdemo.drawing import mnist_recipe, pen_width

# digits as polylines in a 28×28 field, drawn about as wide as MNIST's strokes
SHAPES = {
    "seven": [[(7, 5), (21, 5), (11, 23)]],
    "zero": [[(14, 4), (20, 8), (21, 16), (17, 23), (11, 23), (7, 16), (8, 8), (14, 4)]],
    "one": [[(14, 4), (14, 24)]],
    "four": [[(17, 24), (17, 4), (6, 17), (22, 17)]],
}


def digit(strokes, width: int = 3, fill: list | None = None) -> np.ndarray:
    """A (28, 28) float32 digit in 0..1, drawn at 4× and shrunk as MNIST's were."""
    image = Image.new("L", (112, 112), 0)
    pencil = ImageDraw.Draw(image)
    for stroke in strokes:
        pencil.line([(4 * x, 4 * y) for x, y in stroke], fill=255, width=4 * width, joint="curve")
    if fill:
        pencil.polygon([(4 * x, 4 * y) for x, y in fill], fill=255)
    return np.asarray(image.resize((28, 28), Image.Resampling.BOX), dtype=np.float32) / 255


DIGITS = np.stack([digit(strokes) for strokes in SHAPES.values()])


def ink_box(canvas: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(canvas[:, :, 0] >= 128)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def shape(image: np.ndarray) -> np.ndarray:
    """An image's ink as MNIST would frame it (20-pixel box, centre of mass in the middle), blurred so
    that pen width and a pixel's shift hardly matter."""
    framed = mnist_recipe(np.asarray(image) >= 0.5)
    return gaussian_filter(framed, 1.5)


def nearest(image: np.ndarray, candidates: np.ndarray) -> int:
    """The candidate whose shape is most like the image's (cosine similarity of the centred shapes)."""
    flat = np.stack([shape(candidate).ravel() for candidate in candidates])
    flat = flat - flat.mean(axis=1, keepdims=True)
    one = shape(image).ravel()
    one = one - one.mean()
    return int(np.argmax(flat @ one / np.linalg.norm(flat, axis=1)))


@pytest.mark.parametrize("hand", HANDS.values(), ids=HANDS)
@pytest.mark.parametrize("generator", GENERATORS.values(), ids=GENERATORS)
def test_each_generator_is_deterministic_per_seed(generator, hand):
    first = [d.canvas for d in draw_set(DIGITS, generator, hand, seed=5)]
    again = [d.canvas for d in draw_set(DIGITS, generator, hand, seed=5)]
    other = [d.canvas for d in draw_set(DIGITS, generator, hand, seed=6)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("generator", GENERATORS.values(), ids=GENERATORS)
def test_each_generator_draws_the_digit_it_is_asked_on_the_apps_canvas(generator):
    for seed in range(3):
        drawings = list(draw_set(DIGITS, generator, PLAIN, seed))
        sources = np.stack([drawing.source for drawing in drawings])  # the digits, or for `elastic` their warps
        for index, drawing in enumerate(drawings):
            canvas = drawing.canvas
            assert canvas.shape == (CANVAS_SIZE, CANVAS_SIZE, 4) and canvas.dtype == np.uint8
            assert (canvas[:, :, 3] == 255).all() and (canvas[:, :, 0] == canvas[:, :, 2]).all()  # grey, opaque
            assert nearest(canvas[:, :, 0] / 255, sources) == index, f"drawing {index} (seed {seed}) is another digit"
            assert nearest(drawing.source, DIGITS) == index


def slant(image: np.ndarray) -> float:
    """The angle (degrees) of an image's ink's main axis from the vertical."""
    rows, cols = np.nonzero(image)
    covariance = np.cov(np.stack([cols, rows]).astype(float), aweights=image[rows, cols].astype(float))
    x, y = np.linalg.eigh(covariance)[1][:, -1]
    return float(np.degrees(np.arctan2(x, y) if y > 0 else np.arctan2(-x, -y)))


@pytest.mark.parametrize("generator", GENERATORS.values(), ids=GENERATORS)
def test_a_mouse_hand_turns_and_slants_a_digit_within_its_bounds(generator):
    one = DIGITS[2:3]  # a vertical bar: its slant is the hand's
    plain = [slant(d.canvas[:, :, 0]) for seed in range(8) for d in draw_set(one, generator, PLAIN, seed)]
    mouse = [slant(d.canvas[:, :, 0]) for seed in range(8) for d in draw_set(one, generator, MOUSE, seed)]
    bound = MOUSE.rotation + np.degrees(np.arctan(MOUSE.shear)) + 15  # the elastic warp bends by up to 15°
    assert max(map(abs, mouse)) < bound
    assert np.std(mouse) > np.std(plain) + 4


@pytest.mark.parametrize("size, pen", [(60, 3), (150, 12), (200, 40)])
def test_a_drawing_has_the_size_and_pen_it_was_given(size, pen):
    canvas = gen.skeleton_drawing(DIGITS[0], PLAIN, np.random.default_rng(0), lambda rng: (size, pen)).canvas
    assert max(ink_box(canvas)) == pytest.approx(size + pen, abs=2)
    assert pen_width(canvas[:, :, 0] >= 128) == pytest.approx(pen, rel=0.1, abs=2)


def test_usual_sizes_and_pens_stay_in_their_ranges():
    for seed in range(50):
        size, pen = gen.usual_size_and_pen(np.random.default_rng(seed))
        assert gen.SIZES[0] <= size <= gen.SIZES[1]
        assert 0 < pen <= min(gen.PENS[1], gen.MAX_PEN_SHARE * size)


def test_extreme_sizes_are_tiny_or_huge_with_a_hairline_or_a_fat_pen():
    seen = set()
    for seed in range(32):
        size, pen = gen.extreme_size_and_pen(np.random.default_rng(seed))
        extent = size + pen
        huge = gen.HUGE_INK[0] <= extent <= gen.HUGE_INK[1]
        assert huge or gen.TINY_INK[0] <= extent <= gen.TINY_INK[1]
        fat = gen.FAT_SHARE[0] <= pen / size <= gen.FAT_SHARE[1]
        assert fat or gen.HAIRLINE[0] <= pen <= gen.HAIRLINE[1]
        seen.add((huge, fat))
    assert len(seen) == 4, "tiny and huge, hairline and fat, in every combination"


def test_elastic_drawings_draw_a_warped_digit():
    drawing = gen.elastic_drawing(DIGITS[3], PLAIN, np.random.default_rng(0))
    change = np.abs(drawing.source - DIGITS[3]).sum() / DIGITS[3].sum()
    assert change > 0.1  # really warped
    assert np.corrcoef(drawing.source.ravel(), DIGITS[3].ravel())[0, 1] > 0.5  # still that digit


def test_a_skeleton_has_no_spurs():
    points, edges, widths = skeleton_graph(DIGITS[0])  # a thick 7: its corner leaves a spur when skeletonized
    degree = np.bincount(edges.ravel(), minlength=len(points))
    assert (degree == 1).sum() == 2 and (degree > 2).sum() == 0  # one line, two ends, no forks
    assert len(widths) == len(points) and 2 < np.median(widths) < 4  # the strokes are 3 pixels wide


def test_traced_strokes_follow_the_digit_in_one_go_where_a_pen_would():
    seven = trace_strokes(DIGITS[0])
    assert len(seven) == 1  # one stroke, from its top-left end to its foot
    start, end = seven[0][0], seven[0][-1]
    assert start[1] < 8 and start[0] < 10 and end[1] > 20
    assert len(trace_strokes(DIGITS[1])) == 1  # a closed loop


def test_the_pen_overshoots_sharp_corners():
    corner = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])  # right, then down
    overshot = overshoot_corners(corner, np.random.default_rng(0))
    assert overshot[:, 0].max() > 10.2  # ran on to the right past the corner
    straight = overshoot_corners(np.array([[0.0, 0.0], [20.0, 0.0]]), np.random.default_rng(0))
    assert straight[:, 0].max() == pytest.approx(20.0)


def test_pointer_events_lie_farther_apart_where_the_hand_is_fast():
    line = np.stack([np.linspace(0, 200, 201), np.full(201, 50.0)], axis=1)
    events, speed = pointer_events(line, size=200, peak_speed=1000)
    gaps = np.linalg.norm(np.diff(events, axis=0), axis=1)
    assert gaps[len(gaps) // 2] > 3 * gaps[0]  # slow at the start, fast in the middle
    assert speed.max() == pytest.approx(1000, rel=0.05)
    assert np.allclose(events[[0, -1]], line[[0, -1]])  # from end to end


EIGHT = [[(14, 4), (19, 8), (9, 17), (14, 24), (19, 17), (9, 8), (14, 4)]]
LOWER_LOOP = [(10, 17), (14, 13), (18, 17), (14, 23)]


@pytest.mark.parametrize("generator", GENERATORS.values(), ids=GENERATORS)
def test_a_filled_loop_is_drawn_filled_and_an_open_one_open(generator):
    eights = np.stack([digit(EIGHT), digit(EIGHT, fill=LOWER_LOOP)])
    for seed in range(3):
        drawings = list(draw_set(eights, generator, PLAIN, seed))
        sources = np.stack([drawing.source for drawing in drawings])
        for index, drawing in enumerate(drawings):
            assert nearest(drawing.canvas[:, :, 0] / 255, sources) == index
