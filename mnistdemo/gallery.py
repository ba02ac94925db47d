"""Gallery: which test digits a browsable grid shows, page by page, and which of them are mistakes.

Digits are addressed by their 0-based index in the test set; people see them 1-based (#33 is
index 32), as the notebook numbers them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PAGE_SIZE = 20  # 4 rows of 5: large enough to read on a wall


def shown_digits(labels: np.ndarray, predicted: np.ndarray | None = None) -> np.ndarray:
    """Indices of the test digits the grid shows, in test-set order: all of them, or only the
    mistakes when the predictions are given."""
    labels = np.asarray(labels)
    if predicted is None:
        return np.arange(len(labels))
    predicted = np.asarray(predicted)
    if predicted.shape != labels.shape:
        raise ValueError(f"{len(predicted)} predictions for {len(labels)} labels")
    return np.flatnonzero(predicted != labels)


def tile_label(label: int, guess: int) -> str:
    """'3 → 3' under a tile: the true label, then the model's guess; a ✗ marks a mistake."""
    return f"{label} → {guess}" + ("" if guess == label else " ✗")


def tile_help(digit: int, label: int, guess: int) -> str:
    """The tooltip of a tile: its 1-based number in the test set, in words."""
    verdict = "right" if guess == label else "wrong"
    return f"Test digit #{digit + 1}: true label {label}, the model guessed {guess} ({verdict})"


def page_count(shown: int, page_size: int = PAGE_SIZE) -> int:
    """Pages needed for `shown` digits; at least one, so an empty filter still has a page to show."""
    return max(1, -(-shown // page_size))


def page_digits(shown: np.ndarray, page: int, page_size: int = PAGE_SIZE) -> np.ndarray:
    """The digits on `page` (1-based); pages past the end are clamped to the last one."""
    page = min(max(1, page), page_count(len(shown), page_size))
    return shown[(page - 1) * page_size : page * page_size]


def page_of(shown: np.ndarray, digit: int, page_size: int = PAGE_SIZE) -> int | None:
    """The page (1-based) showing `digit`, or None when the grid does not show it."""
    position = np.searchsorted(shown, digit)  # `shown` is sorted: indices in test-set order
    if position < len(shown) and shown[position] == digit:
        return int(position) // page_size + 1
    return None


class PredictionCache:
    """The model's probabilities for test digits, computed only for the digits asked for and kept
    until the weights change: browsing a page costs a few predictions, not the whole test set."""

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray):
        self._predict = predict
        self._images = images
        self._version: int | None = None
        self._probabilities = np.full((len(images), 10), np.nan, dtype=np.float32)

    def get(self, version: int, digits: np.ndarray) -> np.ndarray:
        """Probabilities (len(digits), 10) from the weights of `version`."""
        digits = np.asarray(digits, dtype=np.int64)
        if version != self._version:
            self._version = version
            self._probabilities.fill(np.nan)
        missing = np.unique(digits[np.isnan(self._probabilities[digits, 0])])
        if len(missing):
            self._probabilities[missing] = self._predict(self._images[missing])
        return self._probabilities[digits]
