"""Tiny random-initialised HF decoders whose norm weights carry a few large channels, so the
normalised activations have the per-channel outliers SmoothQuant and AWQ exist for (a freshly
initialised model has all norm weights 1 and nearly uniform activations, where any scale choice
looks alike). Used by gen_smoothquant.py and gen_awq.py; the calibration windows are plain random
token ids, fed identically to the reference and to slmquant.
"""

OUTLIER_CHANNELS = (3, 17, 40)  # channels whose norm weight is multiplied
OUTLIER_GAIN = 8.0


def add_outlier_channels(torch, model, seed):
    """Norm weights uniform in [0.5, 1.5], with OUTLIER_CHANNELS scaled by OUTLIER_GAIN."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.model.layers:
            for norm in (layer.input_layernorm, layer.post_attention_layernorm):
                w = 0.5 + torch.rand(norm.weight.shape, generator=g)
                w[list(OUTLIER_CHANNELS)] *= OUTLIER_GAIN
                norm.weight.copy_(w)
    return model


def build(torch, cls, config, seed):
    torch.manual_seed(seed)
    return add_outlier_channels(torch, cls(config).eval(), seed + 1)


def calibration_ids(torch, count, length, vocab, seed):
    """[count, length] int64 random token ids in [3, vocab)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (count, length), generator=g)
