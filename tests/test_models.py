import math

import pytest
import torch

from mnistdemo.models import PRESETS, SIGMOID_SOFTMAX_CAP, build_model, preset

PARAMETERS = {
    "seed": 784 * 32 + 32 + 32 * 10 + 10,
    "zoo": 784 * 32 + 32 + 32 * 10 + 10,
    "cnn": (16 * 25 + 16) + (32 * 16 * 25 + 32) + (32 * 4 * 4 * 64 + 64) + (64 * 10 + 10),
}
PARAMETERS["draw"] = PARAMETERS["cnn"]


@pytest.mark.parametrize("name", PRESETS)
def test_every_model_maps_images_to_log_probabilities(name):
    model = build_model(name, torch.Generator().manual_seed(0))
    images = torch.rand(5, 28, 28, generator=torch.Generator().manual_seed(1))

    log_probs = model(images)

    assert log_probs.shape == (5, 10)
    assert torch.allclose(log_probs.exp().sum(dim=1), torch.ones(5), atol=1e-6)
    assert sum(p.numel() for p in model.parameters()) == PARAMETERS[name]


@pytest.mark.parametrize("name", PRESETS)
def test_weights_come_from_the_generator(name):
    def weights(seed):
        return build_model(name, torch.Generator().manual_seed(seed)).state_dict()

    first, again, other = weights(3), weights(3), weights(4)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


@pytest.mark.parametrize("name", [name for name, spec in PRESETS.items() if spec.flux_init])
def test_flux_presets_start_like_flux_dense(name):
    layers = [
        layer
        for layer in build_model(name, torch.Generator().manual_seed(0)).modules()
        if isinstance(layer, torch.nn.Linear)
    ]
    assert layers
    for layer in layers:
        fan_out, fan_in = layer.weight.shape
        assert layer.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out))  # Glorot uniform
        assert not layer.bias.any()


def test_unknown_model_name_is_refused():
    with pytest.raises(ValueError, match="unknown model 'mlp'; choose one of seed, zoo, cnn, draw"):
        build_model("mlp")
    with pytest.raises(ValueError, match="unknown model"):
        preset(None)


@pytest.mark.parametrize("name", PRESETS)
def test_a_capped_preset_names_an_uncapped_one_and_says_why(name):
    spec = PRESETS[name]
    if spec.probability_cap is None:
        assert spec.uncapped_variant is None
        return
    assert PRESETS[spec.uncapped_variant].probability_cap is None
    assert f"{spec.probability_cap:.2f}" in spec.cap_note


def seed_model_with_huge_weights(name):
    """A model whose hidden and output pre-activations are far from zero, pushing every output
    sigmoid of the seed model to 0 or 1: the case where its top probability is largest."""
    model = build_model(name, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(1000)
        model[3].bias.copy_(torch.tensor([100.0] + [-100.0] * 9))
    return model


def test_seed_probabilities_never_exceed_the_cap():
    assert PRESETS["seed"].probability_cap == SIGMOID_SOFTMAX_CAP
    images = torch.rand(200, 28, 28, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        fresh = build_model("seed", torch.Generator().manual_seed(0))(images).exp().max().item()
        extreme = seed_model_with_huge_weights("seed")(images).exp().max().item()

    assert fresh <= SIGMOID_SOFTMAX_CAP
    assert extreme <= SIGMOID_SOFTMAX_CAP + 1e-6
    assert extreme == pytest.approx(SIGMOID_SOFTMAX_CAP, abs=1e-4)  # the bound is tight


def test_zoo_model_is_not_capped():
    images = torch.rand(200, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert seed_model_with_huge_weights("zoo")(images).exp().max().item() > 0.99
