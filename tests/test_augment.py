"""Augmentation: the hand's wobble, digits keep their ink, the fast neighbourhood maximum."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from mnistdemo import augment
from mnistdemo.augment import augment_batch


def test_wobble_is_a_small_smooth_displacement():
    field = augment.wobble(64, torch.zeros(1), torch.Generator().manual_seed(0))
    assert field.shape == (64, 28, 28, 2)
    largest = augment.MAX_WOBBLE_PX * 2 / 28  # in affine_grid's [-1, 1] units
    assert 0.5 * largest < field.abs().max() <= largest + 1e-6
    # neighbouring pixels move together: a waver along the stroke, not noise
    step = (field[:, 1:] - field[:, :-1]).abs().max()
    assert step <= largest * 2 / ((28 - 1) / (augment.WOBBLE_GRID - 1)) + 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_augmented_digits_keep_their_ink(synthetic_data, seed):
    images = synthetic_data.train_images[:64]
    warped = augment.augment_batch(images, torch.Generator().manual_seed(seed))
    # warps move and thicken or thin strokes but never wipe a digit out
    assert (warped.sum(dim=(1, 2)) > 0.3 * images.sum(dim=(1, 2))).all()


def test_fast_neighbourhood_max_is_max_pool():
    images = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert torch.equal(augment._max_3x3(images), F.max_pool2d(images, 3, stride=1, padding=1))
    assert torch.equal(-augment._max_3x3(-images), -F.max_pool2d(-images, 3, stride=1, padding=1))


def test_augment_batch_keeps_shape_and_range_and_follows_the_generator(synthetic_data):
    images = synthetic_data.train_images[:16]

    first = augment_batch(images, torch.Generator().manual_seed(0))
    again = augment_batch(images, torch.Generator().manual_seed(0))
    other = augment_batch(images, torch.Generator().manual_seed(1))

    assert first.shape == images.shape and first.dtype == images.dtype
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.equal(first, images)


def test_elastic_field_is_smooth_and_as_strong_as_alpha_says():
    generator = torch.Generator().manual_seed(0)
    field = augment.elastic(256, torch.zeros(1), generator, alpha=34.0, sigma=4.0) * 28 / 2  # in pixels
    assert field.shape == (256, 28, 28, 2)
    # uniform noise (sd 1/√3) under a 2-D Gaussian of σ 4 keeps an sd of 1/(√3 · 2σ√π) ≈ 0.041 of α
    centre = field[:, 8:20, 8:20]  # away from the zeros beyond the edge
    assert centre.std().item() == pytest.approx(34.0 / (math.sqrt(3) * 8 * math.sqrt(math.pi)), rel=0.15)
    step = (field[:, 1:] - field[:, :-1]).abs().mean()
    assert step < 0.25 * field.abs().mean()  # neighbours move together: a smooth warp, not noise


def test_no_elastic_distortion_unless_asked(synthetic_data):
    images = synthetic_data.train_images[:16]
    plain = augment_batch(images, torch.Generator().manual_seed(0))
    elastic = augment_batch(
        images, torch.Generator().manual_seed(0), dataclasses.replace(augment.DRAWN, elastic_alpha=34.0)
    )
    assert torch.equal(plain, augment_batch(images, torch.Generator().manual_seed(0), augment.DRAWN))
    assert not torch.equal(plain, elastic)
    assert (elastic.sum(dim=(1, 2)) > 0.3 * images.sum(dim=(1, 2))).all()
