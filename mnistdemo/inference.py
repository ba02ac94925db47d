"""Inference: what the model thinks of some images, and its top guesses."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .training import EVAL_CHUNK


@torch.no_grad()
def predict_proba(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """Probabilities (N, 10) for images (N, 28, 28) with pixels in 0..1, ink high like MNIST."""
    array = np.asarray(images, dtype=np.float32)
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (N, 28, 28), got {array.shape}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    images = torch.from_numpy(array).to(device)
    starts = range(0, max(1, len(images)), EVAL_CHUNK)  # one empty chunk for no images
    log_probs = torch.cat([model(images[start : start + EVAL_CHUNK]) for start in starts])
    model.train(was_training)
    return log_probs.exp().cpu().numpy()


def predicted_labels(probabilities: np.ndarray) -> np.ndarray:
    """The top guess for each row of probabilities (N, 10)."""
    return np.asarray(probabilities).argmax(axis=1)


def top_guess(probabilities: np.ndarray) -> tuple[int, float]:
    """The most probable digit of one probability vector (10,) and its probability."""
    digit = int(np.argmax(probabilities))
    return digit, float(probabilities[digit])
