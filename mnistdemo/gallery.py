"""Gallery: which test digits a browsable grid shows, page by page, and which of them are mistakes.

Digits are addressed by their 0-based index in the test set; people see them 1-based (#33 is
index 32), as the notebook numbers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PAGE_SIZE = 20  # 4 rows of 5: large enough to read on a wall


@dataclass(frozen=True)
class DigitFilter:
    """Which test digits the grid shows, and in what order."""

    true_label: int | None = None  # only this true digit
    guess: int | None = None  # only digits the model reads as this
    mistakes_only: bool = False
    most_confident_first: bool = False  # by the probability of the model's guess, else in test-set order

    @property
    def needs_predictions(self) -> bool:
        return self.guess is not None or self.mistakes_only or self.most_confident_first


def shown_digits(
    labels: np.ndarray, probabilities: np.ndarray | None = None, chosen: DigitFilter = DigitFilter()
) -> np.ndarray:
    """Indices of the test digits the grid shows: those `chosen` lets through, in test-set order
    unless it asks for the most confident guesses first. `probabilities` (N, 10) are needed when the
    filter looks at the model's guesses."""
    labels = np.asarray(labels)
    keep = np.ones(len(labels), dtype=bool)
    if chosen.true_label is not None:
        keep &= labels == chosen.true_label
    if not chosen.needs_predictions:
        return np.flatnonzero(keep)
    if probabilities is None:
        raise ValueError("this filter needs the model's probabilities")
    probabilities = np.asarray(probabilities)
    if len(probabilities) != len(labels):
        raise ValueError(f"{len(probabilities)} predictions for {len(labels)} labels")
    guesses = probabilities.argmax(axis=1)
    if chosen.guess is not None:
        keep &= guesses == chosen.guess
    if chosen.mistakes_only:
        keep &= guesses != labels
    shown = np.flatnonzero(keep)
    if chosen.most_confident_first:
        shown = shown[np.argsort(-probabilities[shown].max(axis=1), kind="stable")]
    return shown


def describe(chosen: DigitFilter, count: int) -> str:
    """'True 4 read as 9: 37 digits, the most confident first.'"""
    if chosen.true_label is not None and chosen.guess is not None:
        what = f"True {chosen.true_label} read as {chosen.guess}"
    elif chosen.true_label is not None:
        what = f"True {chosen.true_label}"
    elif chosen.guess is not None:
        what = f"Read as {chosen.guess}"
    else:
        what = "All test digits"
    if chosen.mistakes_only:
        what += ", mistakes only"
    order = ", the most confident first" if chosen.most_confident_first else ""
    return f"{what}: {count:,} digit{'s' if count != 1 else ''}{order}."


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
    positions = np.flatnonzero(np.asarray(shown) == digit)
    return int(positions[0]) // page_size + 1 if len(positions) else None


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
