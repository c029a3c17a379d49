"""The NAS-Bench-Suite-Zero proxies (l2_norm, plain, epe_nas, zen) and the recent
ones (meco, swap): each against a value derived by hand on a tiny network, their
NaN handling, batch-order invariance where it holds, and the packed engine. The
registry-driven invariances and fused == naive are in tests/test_proxies.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zclib import network, proxies
from zclib.proxies import epe_nas, meco, zen
from zclib.proxies.packed import FLOAT32_RTOL
from zclib.proxies.passes import PatternSet, _row_ids

GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
NEW = ["l2_norm", "plain", "epe_nas", "zen", "meco", "swap"]


class Tiny(nn.Module):
    """conv(3->4, 3x3) -> BN -> ReLU -> global pool -> linear(4->3)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.pool(self.relu(self.bn(self.conv(x)))).flatten(1))


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, 5, 5, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    return Tiny(), [(x, y)]


def score(net, name, batches):
    return proxies.compute(net, [name], batches)[name]


def test_specs_of_the_new_proxies():
    """What each spec promises (checked against the scores by tests/test_proxies.py)."""
    s = {n: proxies.get(n) for n in NEW}
    assert not s["zen"].packable and not s["meco"].packable  # own forwards
    assert all(s[n].packable for n in ("l2_norm", "plain", "epe_nas", "swap"))
    assert not any(s[n].uses_data for n in ("l2_norm", "zen", "meco"))
    assert s["epe_nas"].uses_labels and s["plain"].uses_labels
    assert all(n in proxies.resolve("all") for n in NEW)


def test_l2_norm_by_hand(tiny):
    net, b = tiny
    w = [net.conv.weight.detach(), net.fc.weight.detach()]
    expected = float(w[0].norm()) + float(w[1].norm())
    assert score(net, "l2_norm", b) == pytest.approx(expected, rel=1e-6)


def test_plain_is_signed_snip(tiny):
    net, b = tiny
    x, y = b[0]
    F.cross_entropy(net(x), y).backward()
    w = [net.conv.weight, net.fc.weight]
    expected = sum(float((wi.detach() * wi.grad).double().sum()) for wi in w)
    absolute = sum(float((wi.detach() * wi.grad).abs().double().sum()) for wi in w)
    assert score(net, "plain", b) == pytest.approx(expected, rel=1e-5, abs=1e-9)
    assert score(net, "snip", b) == pytest.approx(absolute, rel=1e-5)
    assert abs(expected) < absolute  # the sign matters: not snip


def _epe_literal(jac, labels, n_classes, k=1e-5):
    """EPE-NAS written out as the paper's two cases, for the test."""
    groups = {}
    for row, c in zip(jac, labels, strict=True):
        groups.setdefault(int(c), []).append(row)
    s = {}
    for c, rows in groups.items():
        if len(rows) == 1:
            if n_classes <= 100:
                s[c] = math.log(1 + k)
            continue
        corr = np.corrcoef(np.stack(rows))
        v = float(np.log(np.abs(corr) + k).sum())
        s[c] = v / len(rows) if n_classes > 100 else v
    if n_classes <= 100:
        return sum(abs(v) for v in s.values())
    return sum(abs(a - b) for a in s.values() for b in s.values()) / len(s)


@pytest.mark.parametrize("n_classes", [10, 120])
def test_epe_nas_eval_score_by_hand(n_classes):
    rng = np.random.default_rng(0)
    jac = rng.normal(size=(9, 20))
    labels = np.array([3, 1, 3, 2, 1, 3, 5, 2, 1])  # class 5 seen once
    expected = _epe_literal(jac, labels, n_classes)
    assert epe_nas.eval_score(jac, labels, n_classes) == pytest.approx(expected)
    # batch order: the same groups, the same score
    perm = rng.permutation(9)
    assert epe_nas.eval_score(jac[perm], labels[perm], n_classes) == pytest.approx(
        expected, rel=1e-12
    )


def test_epe_nas_two_samples_per_class_closed_form():
    """Two rows with correlation r: s = 2 log(1 + k) + 2 log(|r| + k)."""
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.0, 3.0, 2.0, 5.0])
    r = np.corrcoef(a, b)[0, 1]
    k = epe_nas.K
    s = 2 * math.log(1 + k) + 2 * math.log(abs(r) + k)
    got = epe_nas.eval_score(np.stack([a, b]), np.array([0, 0]), 10)
    assert got == pytest.approx(abs(s), rel=1e-12)


def test_epe_nas_without_repeated_labels_scores_the_batch_as_one_group():
    """The ImageNet16-120 stand-in (one image per class): the reference gives 0 for
    every network; we score the whole batch (documented deviation)."""
    rng = np.random.default_rng(1)
    jac = rng.normal(size=(6, 12))
    labels = np.arange(6)
    got = epe_nas.eval_score(jac, labels, 120)
    expected = abs(np.log(np.abs(np.corrcoef(jac)) + epe_nas.K).sum()) / 6
    assert got == pytest.approx(expected, rel=1e-12) and got > 0
    # with <= 100 classes the reference's rule applies (singletons: log(1 + k))
    assert epe_nas.eval_score(jac, labels, 10) == pytest.approx(6 * math.log(1 + 1e-5))


def test_epe_nas_nan_for_constant_jacobian_rows():
    jac = np.ones((4, 5))
    assert math.isnan(epe_nas.eval_score(jac, np.array([0, 0, 1, 1]), 10))


def test_epe_nas_on_the_network_uses_the_input_jacobian(tiny):
    net, b = tiny
    x, y = b[0]
    xg = x.clone().requires_grad_(True)
    net(xg).sum().backward()
    jac = xg.grad.reshape(8, -1).double().numpy()
    expected = _epe_literal(jac, y.numpy(), 3)
    assert score(net, "epe_nas", b) == pytest.approx(expected, rel=1e-6)


def _linear_pre_gap():
    return nn.Sequential(
        nn.Conv2d(3, 4, 1, bias=False),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )


def test_zen_on_a_linear_network_by_hand():
    """f linear: f(x) - f(x + γe) = -γ f(e), so Δ = γ mean_n sum |W e_n|, with W and
    e the generator's draws in order (conv weight, linear weight, x, e)."""
    net = _linear_pre_gap()
    shape = (5, 3, 4, 4)
    g = torch.Generator().manual_seed(zen.SEED)
    wc = torch.randn(net[0].weight.shape, generator=g)
    torch.randn(net[3].weight.shape, generator=g)
    torch.randn(shape, generator=g)  # x: cancels out
    e = torch.randn(shape, generator=g)
    delta = (zen.MIXUP_GAMMA * F.conv2d(e, wc)).abs().sum((1, 2, 3)).mean()
    x = torch.zeros(shape)
    got = score(net, "zen", [(x, torch.zeros(5, dtype=torch.long))])
    assert got == pytest.approx(math.log(float(delta)), rel=1e-5)


def test_zen_bn_term_is_the_running_variance_after_two_forwards():
    """BN after the conv: running_var = 0.81 + 0.09 v1 + 0.1 v2 from a reset state
    (momentum 0.1, unbiased batch variances of the conv outputs v1, v2)."""
    net = nn.Sequential(
        nn.Conv2d(3, 4, 1, bias=False),
        nn.BatchNorm2d(4),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )
    with torch.no_grad():
        net[1].running_var.fill_(7.0)  # reset by zen: must not matter
    shape = (6, 3, 4, 4)
    g = torch.Generator().manual_seed(zen.SEED)
    wc = torch.randn(net[0].weight.shape, generator=g)
    torch.randn(net[4].weight.shape, generator=g)
    x = torch.randn(shape, generator=g)
    e = torch.randn(shape, generator=g)
    a1, a2 = F.conv2d(x, wc), F.conv2d(x + zen.MIXUP_GAMMA * e, wc)

    def bn(a):
        return (a - a.mean((0, 2, 3), keepdim=True)) / torch.sqrt(
            a.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5
        )

    delta = (bn(a1) - bn(a2)).abs().sum((1, 2, 3)).mean()
    v1, v2 = (a.var((0, 2, 3), unbiased=True) for a in (a1, a2))
    rv = 0.81 + 0.09 * v1 + 0.1 * v2
    expected = math.log(float(delta)) + math.log(float(rv.mean().sqrt()))
    got = score(net, "zen", [(torch.zeros(shape), torch.zeros(6, dtype=torch.long))])
    assert got == pytest.approx(expected, rel=1e-4)
    assert net[1].running_var.eq(7.0).all()  # the caller's network is untouched


def test_zen_needs_a_global_pool():
    mlp = nn.Sequential(nn.Linear(4, 3))
    with pytest.raises(ValueError, match="AdaptiveAvgPool2d"):
        score(mlp, "zen", [(torch.randn(4, 4), torch.zeros(4, dtype=torch.long))])


def test_meco_by_hand_two_channels():
    """One conv with two channels: P = [[1, r], [r, 1]], λ_min = 1 - |r|; the pooled
    (1, 2, 1, 1) output and the logits add 0."""
    torch.manual_seed(2)
    net = _linear_pre_gap()
    net[0] = nn.Conv2d(3, 2, 1, bias=False)
    net[3] = nn.Linear(2, 2)
    x0 = torch.zeros(4, 3, 8, 8)
    inp = meco.meco_input(x0)
    assert inp.shape == (1, 3, meco.RESOLUTION, meco.RESOLUTION)
    f = F.conv2d(inp, net[0].weight.detach())[0].reshape(2, -1).double()
    r = float(torch.corrcoef(f)[0, 1])
    got = score(net, "meco", [(x0, torch.zeros(4, dtype=torch.long))])
    assert got == pytest.approx(1 - abs(r), rel=1e-9)


def test_meco_min_eigenvalue_edge_cases():
    assert meco.min_corr_eigenvalue(torch.randn(3, 1, 1)) == 0.0  # one value each
    assert math.isnan(meco.min_corr_eigenvalue(torch.randn(1, 4, 4)))
    const = torch.ones(3, 4, 4)  # NaN correlations zeroed: P = 0
    assert meco.min_corr_eigenvalue(const) == 0.0


def test_swap_by_hand():
    """pre-activations [[1,-1,0],[-1,1,0],[1,1,2]] -> unit patterns over the three
    samples (1,0,1), (0,1,1), (0,0,1): 3; a third unit copying the first: 2."""
    net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 2))
    x = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    y = torch.zeros(3, dtype=torch.long)
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert score(net, "swap", [(x, y)]) == 3.0
    with torch.no_grad():
        net[0].weight[2] = torch.tensor([1.0, 0.0])
    assert score(net, "swap", [(x, y)]) == 2.0
    perm = torch.tensor([2, 0, 1])  # batch order: the same count
    assert score(net, "swap", [(x[perm], y)]) == 2.0


@pytest.mark.parametrize("n", [5, 62, 63, 130])
def test_pattern_set_counts_distinct_columns_exactly(n):
    g = torch.Generator().manual_seed(n)
    a = torch.rand(n, 300, generator=g) > 0.5
    a[:, 150:] = a[:, :150]  # every column twice
    b = torch.rand(n, 40, generator=g) > 0.9
    ps = PatternSet()
    ps.add(a)
    ps.add(b)
    cols = {tuple(c.tolist()) for c in torch.cat([a, b], 1).T}
    assert ps.count() == len(cols)


def test_row_ids_equal_exactly_where_rows_are_equal():
    g = torch.Generator().manual_seed(0)
    # few values per word: many rows share a first word and differ in a later one
    words = torch.randint(0, 3, (500, 3), generator=g) * (2**61 - 5)
    ids, n = _row_ids(words)
    assert n == torch.unique(words, dim=0).shape[0]
    same_row = (words[:, None, :] == words[None, :, :]).all(2)
    assert torch.equal(ids[:, None] == ids[None, :], same_row)
    assert _row_ids(words[:0])[1] == 0


@pytest.fixture(scope="module")
def nb201_batch():
    g = torch.Generator().manual_seed(0)
    return [
        (
            torch.randn(16, 3, 16, 16, generator=g),
            torch.randint(0, 4, (16,), generator=g),  # repeated labels: epe groups
        )
    ]


def test_batch_order_invariance_on_nb201(nb201_batch):
    torch.manual_seed(3)
    net = network.build(GOOD, "ImageNet16-120")
    (x, y) = nb201_batch[0]
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(5))
    names = ["plain", "epe_nas", "swap"]
    a = proxies.compute(net, names, nb201_batch)
    b = proxies.compute(net, names, [(x[perm], y[perm])])
    assert a["swap"] == b["swap"]
    assert a["epe_nas"] == pytest.approx(b["epe_nas"], rel=1e-4)
    assert a["plain"] == pytest.approx(b["plain"], rel=1e-3)


def test_degenerate_cell_nan_not_a_crash(nb201_batch):
    torch.manual_seed(0)
    net = network.build(
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "ImageNet16-120"
    )
    s = proxies.compute(net, NEW, nb201_batch)
    assert math.isnan(s["epe_nas"]) and math.isnan(s["zen"])
    assert math.isfinite(s["l2_norm"]) and math.isfinite(s["swap"])


def test_packed_equals_per_cell_for_the_new_proxies(nb201_batch):
    archs = [
        GOOD,
        "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|"
        "+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|",
        "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|"
        "+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|",
    ]
    nets = []
    for k, a in enumerate(archs):
        torch.manual_seed(k)
        nets.append(network.build(a, "ImageNet16-120"))
    cell = [proxies.compute(n, NEW, nb201_batch) for n in nets]
    packed = proxies.compute_packed(nets, NEW, nb201_batch)
    for c, p in zip(cell, packed, strict=True):
        # integers, but a float32 activation within rounding of 0 can flip its
        # unit's pattern (grouped convolutions sum in another order): 1 in ~40,000
        assert p["swap"] == pytest.approx(c["swap"], rel=FLOAT32_RTOL["swap"])
        assert p["l2_norm"] == pytest.approx(c["l2_norm"], rel=1e-6)
        assert p["zen"] == c["zen"] and p["meco"] == c["meco"]  # per-cell passes
        for name in ("epe_nas", "plain"):
            rtol = FLOAT32_RTOL[name]
            assert p[name] == pytest.approx(c[name], rel=rtol, abs=1e-6), name
