import numpy as np
import pytest

from mnistdemo import gallery, pictures
from mnistdemo.inference import predicted_labels

LABELS = np.array([7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
GUESSES = np.array([7, 2, 1, 0, 9, 1, 4, 4, 5, 3])  # wrong at indices 4, 7, 9


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[labels]


MISTAKES = gallery.DigitFilter(mistakes_only=True)


def test_shown_digits_are_all_or_only_the_mistakes():
    assert list(gallery.shown_digits(LABELS)) == list(range(10))
    assert list(gallery.shown_digits(LABELS, one_hot(GUESSES), MISTAKES)) == [4, 7, 9]
    assert len(gallery.shown_digits(LABELS, one_hot(LABELS), MISTAKES)) == 0
    with pytest.raises(ValueError, match="predictions"):
        gallery.shown_digits(LABELS, one_hot(GUESSES[:5]), MISTAKES)
    with pytest.raises(ValueError, match="probabilities"):
        gallery.shown_digits(LABELS, None, MISTAKES)


def test_filter_by_true_digit_and_guess_shows_exactly_one_confusion_cell():
    assert list(gallery.shown_digits(LABELS, None, gallery.DigitFilter(true_label=9))) == [7, 9]
    cell = gallery.DigitFilter(true_label=4, guess=9)
    assert list(gallery.shown_digits(LABELS, one_hot(GUESSES), cell)) == [4]
    diagonal = gallery.DigitFilter(true_label=1, guess=1)  # the right ones of that digit
    assert list(gallery.shown_digits(LABELS, one_hot(GUESSES), diagonal)) == [2, 5]
    read_as_four = gallery.DigitFilter(guess=4, mistakes_only=True)
    assert list(gallery.shown_digits(LABELS, one_hot(GUESSES), read_as_four)) == [7]


def test_most_confident_first_orders_by_the_probability_of_the_guess():
    probabilities = one_hot(GUESSES) * np.linspace(0.2, 0.9, 10, dtype=np.float32)[:, None]
    probabilities[7, 4] = 0.95  # the surest mistake
    chosen = gallery.DigitFilter(mistakes_only=True, most_confident_first=True)
    assert list(gallery.shown_digits(LABELS, probabilities, chosen)) == [7, 9, 4]
    ties = gallery.shown_digits(LABELS, one_hot(GUESSES), gallery.DigitFilter(most_confident_first=True))
    assert list(ties) == list(range(10))  # equal confidence: test-set order


def test_the_filter_is_described_in_words():
    assert gallery.describe(gallery.DigitFilter(true_label=4, guess=9, most_confident_first=True), 37) == (
        "True 4 read as 9: 37 digits, the most confident first."
    )
    assert gallery.describe(gallery.DigitFilter(), 10_000) == "All test digits: 10,000 digits."
    assert gallery.describe(gallery.DigitFilter(guess=3, mistakes_only=True), 1) == "Read as 3, mistakes only: 1 digit."


def test_pages_cover_all_ten_thousand_test_digits():
    shown = gallery.shown_digits(np.zeros(10_000, dtype=int))
    pages = gallery.page_count(len(shown), page_size=24)
    assert pages == 417  # 416 full pages of 24 and one of 16
    every_page = [gallery.page_digits(shown, page, page_size=24) for page in range(1, pages + 1)]
    assert np.array_equal(np.concatenate(every_page), shown)
    assert list(gallery.page_digits(shown, 2, page_size=24)) == list(range(24, 48))
    assert gallery.page_count(10_000) * gallery.PAGE_SIZE >= 10_000


def test_page_numbers_out_of_range_are_clamped_and_an_empty_grid_has_one_page():
    shown = np.arange(30)
    assert list(gallery.page_digits(shown, 99, page_size=24)) == list(range(24, 30))
    assert list(gallery.page_digits(shown, 0, page_size=24)) == list(range(24))
    assert gallery.page_count(0) == 1
    assert len(gallery.page_digits(np.arange(0), 1)) == 0


def test_page_of_finds_the_page_showing_a_digit():
    shown = np.arange(10_000)
    assert gallery.page_of(shown, 32, page_size=24) == 2  # test digit #33 is on page 2 of 24-digit pages
    assert gallery.page_of(shown, 9_999, page_size=24) == 417
    mistakes = np.array([4, 7, 9, 30, 31])
    assert gallery.page_of(mistakes, 30, page_size=2) == 2
    assert gallery.page_of(mistakes, 5) is None
    assert gallery.page_of(mistakes, 10_000) is None
    surest_first = np.array([31, 4, 9, 30, 7])  # not in test-set order
    assert gallery.page_of(surest_first, 7, page_size=2) == 3 and gallery.page_of(surest_first, 31, page_size=2) == 1


def test_tiles_say_label_and_guess_and_mark_mistakes():
    assert gallery.tile_label(3, 3) == "3 → 3"
    assert gallery.tile_label(5, 3) == "5 → 3 ✗"
    assert gallery.tile_help(32, 3, 3) == "Test digit #33: true label 3, the model guessed 3 (right)"
    assert gallery.tile_help(8, 5, 3).endswith("guessed 3 (wrong)")


def test_prediction_cache_computes_each_digit_once_per_weights_version():
    images = np.arange(10, dtype=np.float32)[:, None, None] * np.ones((10, 28, 28), dtype=np.float32)
    asked: list[list[int]] = []

    def predict(batch: np.ndarray) -> np.ndarray:
        asked.append([int(image[0, 0]) for image in batch])
        return one_hot(GUESSES[[int(image[0, 0]) for image in batch]])

    cache = gallery.PredictionCache(predict, images)
    assert list(predicted_labels(cache.get(1, np.array([4, 7])))) == [9, 4]
    assert list(predicted_labels(cache.get(1, np.array([7, 4, 7, 9])))) == [4, 9, 4, 3]
    assert asked == [[4, 7], [9]]  # only the digit not asked before
    cache.get(2, np.array([4]))  # new weights: predicted again
    assert asked[-1] == [4]


def test_enlarge_keeps_every_pixel_a_square():
    image = np.zeros((28, 28), dtype=np.float32)
    image[3, 5] = 1.0
    image[0, 0] = 0.5
    big = pictures.enlarge(image, 4)
    assert big.shape == (112, 112) and big.dtype == np.uint8
    assert (big[12:16, 20:24] == 255).all() and big.sum() == 255 * 16 + 128 * 16
    with pytest.raises(ValueError):
        pictures.enlarge(image, 0)
    with pytest.raises(ValueError):
        pictures.enlarge(image[None], 2)


def test_digit_tiles_frame_mistakes_in_red_and_line_up():
    image = np.ones((28, 28), dtype=np.float32)
    right = pictures.digit_tile(image, 3, mistake=False, border=2)
    wrong = pictures.digit_tile(image, 3, mistake=True, border=2)
    assert right.shape == wrong.shape == (88, 88, 3)
    assert tuple(wrong[0, 0]) == pictures.MISTAKE_RGB and tuple(right[0, 0]) == (0, 0, 0)
    assert (wrong[2:86, 2:86] == 255).all() and (right[2:86, 2:86] == 255).all()
