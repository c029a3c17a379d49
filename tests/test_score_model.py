"""zclib.score: any torch.nn.Module, every proxy whose needs it meets (a small CNN,
an MLP), a clear error for the rest, and the same numbers as zclib.proxies."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import zclib
from zclib import proxies
from zclib.score_model import requirements


class SmallCNN(nn.Module):
    """conv-BN-ReLU x2 -> global pool -> linear (torchvision-free)."""

    def __init__(self, n_classes: int = 5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.head(self.pool(self.features(x)).flatten(1))


def mlp():
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 4))


def _batches(shape, n_classes, n=2):
    g = torch.Generator().manual_seed(0)
    return [
        (
            torch.randn(shape, generator=g),
            torch.randint(0, n_classes, (shape[0],), generator=g),
        )
        for _ in range(n)
    ]


def test_cnn_gets_every_proxy():
    torch.manual_seed(0)
    net = SmallCNN()
    b = _batches((8, 3, 12, 12), 5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    s = zclib.score(net, b)
    assert list(s) == proxies.names()  # every proxy, in registry order
    assert all(math.isfinite(v) for v in s.values()), s
    assert s == proxies.compute(net, proxies.names(), b)
    for k, v in net.state_dict().items():  # never modified
        assert torch.equal(v, before[k]), k
    one = zclib.score(net, b[0], proxies=["snip", "swap"])  # a single (x, y)
    assert one == {"snip": s["snip"], "swap": s["swap"]}


def test_mlp_gets_what_it_can_and_a_clear_error_for_the_rest():
    torch.manual_seed(0)
    net = mlp()
    b = _batches((10, 12), 4)
    why = requirements(net, b)
    cannot = {n for n, r in why.items() if r is not None}
    assert cannot == {"zen", "meco", "flops"}
    assert "AdaptiveAvgPool2d" in why["zen"] and "(N, 3, H, H)" in why["flops"]
    s = zclib.score(net, b)
    assert set(s) == set(proxies.names()) - cannot
    assert all(math.isfinite(v) for v in s.values()), s
    # params by hand: 12*32 + 32 + 32*4 + 4
    assert s["params"] == pytest.approx((12 * 32 + 32 + 32 * 4 + 4) / 1e6)
    with pytest.raises(ValueError, match="zen needs an nn.AdaptiveAvgPool2d"):
        zclib.score(net, b, proxies=["snip", "zen"])


def test_what_a_proxy_needs_is_checked():
    torch.manual_seed(0)
    net = mlp()
    x, y = _batches((6, 12), 4, n=1)[0]
    # labels out of range: no CE-loss proxy, but the label-free ones still score
    why = requirements(net, (x, y + 10))
    assert why["snip"] is not None and "labels" in why["snip"]
    assert why["jacob_cov"] is None and why["naswot"] is None
    # one batch: zico needs two
    assert "2 batches" in requirements(net, (x, y))["zico"]
    with pytest.raises(ValueError, match="zico needs 2 batches"):
        zclib.score(net, (x, y), proxies="zico")
    # no nn.ReLU module (a functional relu cannot be hooked)
    lin = nn.Sequential(nn.Linear(12, 4))
    assert "nn.ReLU" in requirements(lin, (x, y))["swap"]
    # no classification head: output is not (N, n_classes)
    flat = nn.Sequential(nn.Linear(12, 4), nn.Flatten(0))
    assert "classification head" in requirements(flat, (x, y))["jacob_cov"]
