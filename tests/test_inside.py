"""What a network learned and why it answers: the confusion matrix, the first layer's pictures and
responses, attributions and the steadiness sweep, on hand-made cases and known weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mnistdemo import explain, inside
from mnistdemo.config import TrainConfig
from mnistdemo.inference import predict_proba, predicted_labels
from mnistdemo.models import PRESETS, build_model
from mnistdemo.training import Trainer


def test_confusion_matrix_counts_each_true_and_guessed_pair():
    labels = np.array([0, 0, 0, 1, 1, 2, 9, 9])
    guesses = np.array([0, 0, 2, 1, 7, 2, 9, 4])
    matrix = inside.confusion_matrix(labels, guesses)
    expected = np.zeros((10, 10), dtype=int)
    for label, guess in zip(labels, guesses, strict=True):  # the direct count
        expected[label, guess] += 1
    np.testing.assert_array_equal(matrix, expected)
    assert matrix[0, 2] == 1 and matrix[0, 0] == 2 and matrix.sum() == len(labels)
    accuracy = inside.class_accuracy(matrix)
    np.testing.assert_allclose(accuracy[[0, 1, 2, 9]], [200 / 3, 50, 100, 50])
    assert np.isnan(accuracy[3])  # no 3 among the labels
    with pytest.raises(ValueError, match="predictions"):
        inside.confusion_matrix(labels, guesses[:3])


@pytest.mark.slow
def test_confusion_diagonal_is_the_test_accuracy_the_page_shows(mnist_data, single_thread):
    trainer = Trainer(mnist_data, TrainConfig(model="zoo", epochs=1, batch_size=1024, lr=1e-2), torch.device("cpu"))
    (result,) = trainer.run()
    guesses = predicted_labels(predict_proba(trainer.model, mnist_data.test_images.numpy()))
    matrix = inside.confusion_matrix(mnist_data.test_labels.numpy(), guesses)
    assert matrix.sum() == 10_000
    assert round(100 * np.trace(matrix) / matrix.sum(), 2) == result.test_acc
    counts = np.bincount(mnist_data.test_labels.numpy(), minlength=10)
    np.testing.assert_allclose(inside.class_accuracy(matrix), 100 * np.diag(matrix) / counts)


def mlp_with_known_weights() -> nn.Module:
    model = build_model("seed")
    with torch.no_grad():
        model[1].weight.copy_(torch.arange(32 * 784, dtype=torch.float32).reshape(32, 784))  # whole: exact
        model[3].weight.copy_(torch.arange(10 * 32, dtype=torch.float32).reshape(10, 32) - 100)
    return model


def test_hidden_unit_images_are_the_first_layers_weights_reshaped():
    model = mlp_with_known_weights()
    layer = inside.first_layer(model)
    assert not layer.convolutional and layer.weights.shape == (32, 28, 28)
    np.testing.assert_array_equal(layer.weights[5], (np.arange(784) + 5 * 784).reshape(28, 28))
    assert layer.weights[5, 2, 3] == 5 * 784 + 2 * 28 + 3  # unit 6's weight from pixel (row 2, column 3)
    assert layer.votes.shape == (32, 10)
    np.testing.assert_array_equal(layer.votes[7], np.arange(10) * 32 + 7 - 100)  # unit 7's weight to each digit


def test_the_cnn_shows_filters_and_feature_maps_not_units():
    model = build_model("cnn", torch.Generator().manual_seed(0))
    layer = inside.first_layer(model)
    assert layer.convolutional and layer.votes is None
    np.testing.assert_array_equal(layer.weights, model[1].weight.detach().numpy()[:, 0])
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    maps = inside.first_layer_response(model, image)
    expected = torch.relu(model[1](torch.from_numpy(image)[None, None]))[0].detach().numpy()
    assert maps.shape == (16, 24, 24)
    np.testing.assert_allclose(maps, expected, rtol=1e-6)


@pytest.mark.parametrize("name", [name for name in PRESETS if not inside.first_layer(build_model(name)).convolutional])
def test_hidden_activations_are_the_sigmoid_of_the_first_layer(name):
    model = build_model(name, torch.Generator().manual_seed(0))
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    activations = inside.first_layer_response(model, image)
    expected = torch.sigmoid(model[1](torch.from_numpy(image).reshape(1, 784)))[0].detach().numpy()
    assert activations.shape == (32,)
    np.testing.assert_allclose(activations, expected, rtol=1e-6)


class LeftHalfReader(nn.Module):
    """A toy model that reads only the left 14 columns: the right half cannot matter to it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(28 * 14, 10)
        nn.init.normal_(self.linear.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.linear(images[:, :, :14].reshape(len(images), -1)), dim=1)


def test_attributions_of_a_model_reading_the_left_half_are_nothing_on_the_right():
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    maps = explain.attributions(LeftHalfReader(), image, [3, 8])
    assert maps.shape == (2, 28, 28)
    assert np.all(maps[:, :, 14:] == 0)
    assert np.abs(maps[:, :, :14]).sum(axis=(1, 2)).min() > 0


@pytest.mark.parametrize("name", PRESETS)
def test_each_attribution_map_adds_up_to_the_change_from_a_blank_image(name):
    model = build_model(name, torch.Generator().manual_seed(0))
    image = np.random.default_rng(2).random((28, 28), dtype=np.float32)
    maps = explain.attributions(model, image, [1, 6])
    log_probs = np.log(predict_proba(model, np.stack([image, np.zeros_like(image)])))
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), (log_probs[0] - log_probs[1])[[1, 6]], rtol=0.05, atol=1e-3)
    assert all(parameter.grad is None for parameter in model.parameters())  # the weights are left alone


def test_shifts_move_whole_pixels_and_turns_go_anticlockwise():
    image = torch.zeros(28, 28)
    image[14, 22] = 1  # right of the centre
    moved = explain.shifted(image, 2, -1)
    assert moved[13, 24] == 1 and moved.sum() == 1
    assert explain.shifted(image, 6, 0).sum() == 0  # moved off the edge: lost, nothing wraps around
    turned = explain.rotated(image[None], np.array([90.0]))[0]
    assert divmod(int(turned.argmax()), 28) == (5, 14)  # now above the centre


@pytest.mark.parametrize("name", PRESETS)
def test_the_steadiness_sweep_at_no_change_is_the_plain_prediction_in_one_batch(name):
    model = build_model(name, torch.Generator().manual_seed(0))
    image = np.random.default_rng(3).random((28, 28), dtype=np.float32)
    batches = []
    model.register_forward_hook(lambda module, inputs, output: batches.append(len(inputs[0])))
    sweeps = explain.steadiness(model, image)
    assert len(batches) == 1  # every variant went through the model together
    plain = predict_proba(model, image[None])[0]
    assert [sweep.probabilities.shape for sweep in sweeps] == [(len(sweep.values), 10) for sweep in sweeps]
    assert batches[0] == sum(len(sweep.values) for sweep in sweeps)
    for sweep in sweeps:
        (unchanged,) = np.flatnonzero(sweep.values == 0)
        np.testing.assert_allclose(sweep.probabilities[unchanged], plain, rtol=1e-5)
    assert [sweep.values.min() for sweep in sweeps] == [-4, -4, -30, -1]
    assert [sweep.values.max() for sweep in sweeps] == [4, 4, 30, 1]
