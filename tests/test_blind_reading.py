"""The blind reading's arithmetic and sheets (bench/blind_reading.py), on made-up answers."""

import numpy as np
import pytest

from bench.blind_reading import COLUMNS, ROWS, blind_reading, crop_to_ink, sheets


def test_the_person_is_weighted_by_the_models_accuracy_and_the_union_counts_the_misses_read() -> None:
    model_right = np.array([True] * 4 + [False] * 4)
    person_right = np.array([True, True, True, False, True, False, False, False])
    result = blind_reading(model_right, person_right, model_accuracy=0.9)
    assert result["person on model-right"] == 0.75
    assert result["person on model-wrong"] == 0.25
    assert result["person"] == pytest.approx(0.9 * 0.75 + 0.1 * 0.25)
    assert result["model or person"] == pytest.approx(0.9 + 0.1 * 0.25)
    assert result["model on person-read"] == pytest.approx(0.9 * 0.75 / (0.9 * 0.75 + 0.1 * 0.25))
    expected_variance = 0.9**2 * 0.75 * 0.25 / 4 + 0.1**2 * 0.25 * 0.75 / 4
    assert result["person standard error"] == pytest.approx(np.sqrt(expected_variance))


def test_a_crop_is_a_square_around_the_ink_with_a_margin() -> None:
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100:160, 50:70] = 255  # 60 tall, 20 wide
    crop = crop_to_ink(canvas)
    assert crop.shape[0] == crop.shape[1] > 60
    assert crop.sum() == canvas.sum()  # all the ink, nothing cut


def test_sheets_number_every_drawing_once() -> None:
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100:120, 100:110] = 255
    pages = sheets(np.stack([canvas] * (COLUMNS * ROWS + 1)))
    assert len(pages) == 2
    # the second sheet holds one drawing: ink in its first cell only
    second = np.asarray(pages[1])
    cell = second.shape[1] // COLUMNS
    assert (second[:cell, :cell] == 255).any()
    assert not (second[:cell, cell:] == 255).any()
