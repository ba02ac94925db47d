import numpy as np
import pytest
import torch

import mnistdemo
from mnistdemo.inference import predict_proba, predicted_labels, top_guess
from mnistdemo.models import PRESETS, SIGMOID_SOFTMAX_CAP, build_model


@pytest.mark.parametrize("name", PRESETS)
def test_probabilities_sum_to_one(name):
    model = build_model(name, torch.Generator().manual_seed(0))
    images = np.random.default_rng(0).random((6, 28, 28))

    probabilities = predict_proba(model, images)

    assert probabilities.shape == (6, 10) and probabilities.dtype == np.float32
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_predictions_are_the_models_own(synthetic_data):
    model = build_model("seed", torch.Generator().manual_seed(0))
    images = synthetic_data.test_images[:8]
    with torch.no_grad():
        expected = model(images).exp().numpy()

    probabilities = mnistdemo.predict_proba(model, images.numpy())

    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
    assert probabilities.max() <= SIGMOID_SOFTMAX_CAP


def test_accepts_lists_and_integer_arrays_and_keeps_the_models_mode():
    model = build_model("cnn", torch.Generator().manual_seed(0))
    blank = [[[0] * 28] * 28]

    assert predict_proba(model, blank).shape == (1, 10)
    assert predict_proba(model, np.zeros((2, 28, 28), dtype=np.uint8)).shape == (2, 10)
    assert model.training
    model.eval()
    predict_proba(model, blank)
    assert not model.training


@pytest.mark.parametrize("shape", [(28, 28), (3, 784), (3, 1, 28, 28), (3, 28, 27), (0,)])
def test_wrong_shapes_are_refused(shape):
    model = build_model("seed")
    with pytest.raises(ValueError, match=r"images must have shape \(N, 28, 28\), got"):
        predict_proba(model, np.zeros(shape))


def test_predicted_labels_and_top_guess():
    guesses = np.array([7, 2, 1, 0, 9])
    assert list(predicted_labels(np.eye(10, dtype=np.float32)[guesses])) == list(guesses)
    assert top_guess(np.array([0.1, 0.0, 0.6, 0.3, 0, 0, 0, 0, 0, 0])) == (2, pytest.approx(0.6))
