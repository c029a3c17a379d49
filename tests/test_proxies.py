"""Each proxy against an independent re-derivation on a tiny network, plus
invariances."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zclib import network, proxies
from zclib.proxies.jacob_cov import eval_score
from zclib.proxies.zico import zico_from_grads

GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


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

    def manual(self, x, wc, wf, mask_c=None, mask_f=None):
        """The same network written out, with optional weight masks (for snip)."""
        wc = wc if mask_c is None else wc * mask_c
        wf = wf if mask_f is None else wf * mask_f
        h = F.conv2d(x, wc, padding=1)
        h = F.batch_norm(h, None, None, self.bn.weight, self.bn.bias, training=True)
        h = F.relu(h).mean((2, 3))
        return F.linear(h, wf, self.fc.bias)


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    net = Tiny()
    x = torch.randn(8, 3, 5, 5)
    y = torch.randint(0, 3, (8,))
    x2 = torch.randn(8, 3, 5, 5)
    y2 = torch.randint(0, 3, (8,))
    return net, [(x, y), (x2, y2)]


def score(net, name, batches):
    return proxies.compute(net, [name], batches)[name]


def weight_grads(net, x, y):
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    return [net.conv.weight.grad.clone(), net.fc.weight.grad.clone()]


def test_grad_norm(tiny):
    net, b = tiny
    g = weight_grads(net, *b[0])
    assert score(net, "grad_norm", b) == pytest.approx(
        float(g[0].norm() + g[1].norm()), rel=1e-6
    )


def test_snip_is_abs_mask_gradient(tiny):
    net, b = tiny
    x, y = b[0]
    mc = torch.ones_like(net.conv.weight, requires_grad=True)
    mf = torch.ones_like(net.fc.weight, requires_grad=True)
    loss = F.cross_entropy(
        net.manual(x, net.conv.weight.detach(), net.fc.weight.detach(), mc, mf), y
    )
    gc, gf = torch.autograd.grad(loss, [mc, mf])
    expected = float(gc.abs().sum() + gf.abs().sum())
    assert score(net, "snip", b) == pytest.approx(expected, rel=1e-5)


def test_grasp_with_explicit_hessian(tiny):
    net, b = tiny
    x, y = b[0]
    wc0, wf0 = net.conv.weight.detach(), net.fc.weight.detach()
    n_c = wc0.numel()

    def loss_of(v):
        return F.cross_entropy(
            net.manual(x, v[:n_c].view_as(wc0), v[n_c:].view_as(wf0)), y
        )

    v = torch.cat([wc0.flatten(), wf0.flatten()]).double()
    net_d = net.double()
    x = x.double()
    H = torch.autograd.functional.hessian(loss_of, v)
    g = torch.autograd.functional.jacobian(loss_of, v)
    expected = float(-(v * (H @ g)).sum())
    net.float()
    got = score(net, "grasp", b)
    assert net_d is net
    assert got == pytest.approx(expected, rel=1e-3, abs=1e-7)


def test_fisher_from_retained_activation_gradients(tiny):
    net, b = tiny
    x, y = b[0]
    a1 = F.conv2d(x, net.conv.weight, padding=1)
    a1.retain_grad()
    h = F.batch_norm(a1, None, None, net.bn.weight, net.bn.bias, training=True)
    h = F.relu(h).mean((2, 3))
    a2 = F.linear(h, net.fc.weight, net.fc.bias)
    a2.retain_grad()
    F.cross_entropy(a2, y).backward()
    f1 = 0.5 * ((a1 * a1.grad).sum((2, 3)) ** 2).mean(0).sum()
    f2 = 0.5 * ((a2 * a2.grad) ** 2).mean(0).sum()
    # the reference broadcasts each channel's value over its C_in*k*k (or in_features)
    # weights before summing
    ref = 3 * 3 * 3 * f1 + 4 * f2
    assert score(net, "fisher", b) == pytest.approx(float(ref.detach()), rel=1e-5)
    assert score(net, "fisher_channel", b) == pytest.approx(
        float((f1 + f2).detach()), rel=1e-5
    )


def test_jacob_cov_as_reference_with_eig(tiny):
    net, b = tiny
    x, y = b[0]
    xg = x.clone().requires_grad_(True)
    net(xg).sum().backward()
    jac = xg.grad.reshape(8, -1).numpy().astype(np.float64)
    v, _ = np.linalg.eig(np.corrcoef(jac))
    expected = float(-np.sum(np.log(v.real + 1e-5) + 1.0 / (v.real + 1e-5)))
    assert score(net, "jacob_cov", b) == pytest.approx(expected, rel=1e-6)
    # constant rows: NaN, as the reference
    assert math.isnan(eval_score(np.zeros((4, 10))))


def test_naswot_literal_kernel(tiny):
    net, b = tiny
    x, _ = b[0]
    with torch.no_grad():
        pre = net.bn(net.conv(x)).flatten(1)
    c = (pre > 0).double()
    K = c @ c.T + (1 - c) @ (1 - c).T
    assert score(net, "naswot", b) == pytest.approx(
        float(np.linalg.slogdet(K.numpy())[1]), rel=1e-9
    )


def test_naswot_counts_every_relu_when_relus_share_an_input():
    """Three conv edges leave node 0 (three ReLUs on one tensor): the pass computes
    their term once but must add it three times, like a plain hook on every ReLU."""
    torch.manual_seed(5)
    net = network.build("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|"
                        "+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
                        "ImageNet16-120")
    x = torch.randn(12, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(12, dtype=torch.long)
    K = np.zeros((12, 12))
    inputs = []

    def plain(_m, inp, out):
        c = (out.detach().flatten(1) > 0).double()
        K[:] += (c @ c.T + (1 - c) @ (1 - c).T).numpy()
        inputs.append(inp[0])

    ref = copy.deepcopy(net).train()
    hooks = [m.register_forward_hook(plain) for m in ref.modules()
             if isinstance(m, torch.nn.ReLU)]
    with torch.no_grad():
        ref(x)
    for h in hooks:
        h.remove()
    assert len({id(t) for t in inputs}) < len(inputs)  # some ReLUs do share inputs
    assert score(net, "naswot", [(x, y)]) == float(np.linalg.slogdet(K)[1])


def test_zico_literal_formula(tiny):
    net, b = tiny
    grads = [weight_grads(net, *bb) for bb in b]
    expected = 0.0
    for layer in range(2):
        g = np.stack([grads[k][layer].numpy().reshape(-1) for k in range(2)])
        std = g.std(axis=0)
        nz = np.nonzero(std)[0]
        s = np.sum(np.abs(g).mean(axis=0)[nz] / std[nz])
        if s != 0:
            expected += np.log(s)
    assert score(net, "zico", b) == pytest.approx(float(expected), rel=1e-6)
    with pytest.raises(ValueError):
        zico_from_grads([[torch.ones(3)]])


def test_zico_skips_zero_std_weights():
    same = [torch.tensor([1.0, 2.0, 3.0])]
    other = [torch.tensor([1.0, 0.0, 3.0])]  # only the middle weight varies
    # mean|g| = 1, std = 1 for the middle weight only: log(1) = 0
    assert zico_from_grads([same, other]) == pytest.approx(0.0)
    assert zico_from_grads([same, same]) == 0.0  # no varying weight: layer skipped


def test_synflow_equals_path_norm_on_linear_chain():
    """Bias-free linear chain: each layer's synflow sum equals R = 1'|W2||W1|1."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 5, bias=False), nn.Linear(5, 3, bias=False))
    x = torch.randn(6, 4)
    y = torch.randint(0, 3, (6,))
    W1, W2 = (net[0].weight.detach().double().abs(),
              net[1].weight.detach().double().abs())
    R = float(
        torch.ones(3, dtype=torch.float64) @ W2 @ W1
        @ torch.ones(4, dtype=torch.float64)
    )
    assert score(net, "synflow", [(x, y)]) == pytest.approx(2 * R, rel=1e-12)
    assert (net[0].weight < 0).any()  # the caller's network was not linearised


def test_params_flops_by_hand(tiny):
    net, b = tiny
    s = proxies.compute(net, ["params", "flops"], b)
    assert s["params"] == pytest.approx((108 + 8 + 15) / 1e6)
    assert s["flops"] == pytest.approx((3 * 3 * 3 * 4 * 25 + 12 + 3) / 1e6)


# -- on the real NB201 network -------------------------------------------------------

@pytest.fixture(scope="module")
def nb201():
    torch.manual_seed(3)
    net = network.build(GOOD, "ImageNet16-120")
    g = torch.Generator().manual_seed(0)
    b = [(torch.randn(16, 3, 16, 16, generator=g),
          torch.randint(0, 120, (16,), generator=g))
         for _ in range(2)]
    return net, b


def test_fused_equals_naive_for_every_proxy(nb201):
    net, b = nb201
    fused = proxies.compute(net, proxies.names(), b, mode="fused")
    naive = proxies.compute(net, proxies.names(), b, mode="naive")
    for name in proxies.names():
        assert fused[name] == pytest.approx(naive[name], rel=1e-6), name


def test_compute_never_mutates_the_callers_network(nb201):
    net, b = nb201
    before = {k: v.clone() for k, v in net.state_dict().items()}
    proxies.compute(net, proxies.names(), b)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_deterministic_bit_for_bit_on_cpu(nb201):
    net, b = nb201
    assert proxies.compute(net, proxies.names(), b) == proxies.compute(
        net, proxies.names(), b
    )


def test_synflow_does_not_depend_on_data(nb201):
    net, b = nb201
    other = [(torch.rand_like(b[0][0]) * 100, torch.zeros_like(b[0][1]))]
    assert score(net, "synflow", b) == score(net, "synflow", other)


def test_label_free_proxies_ignore_labels(nb201):
    net, b = nb201
    relabelled = [(b[0][0], (b[0][1] + 7) % 120)]
    for name in ("jacob_cov", "naswot", "synflow", "params", "flops"):
        assert score(net, name, b) == score(net, name, relabelled), name
    assert score(net, "snip", b) != score(net, "snip", relabelled)


def test_degenerate_cell_gives_nan_not_a_crash():
    """All-'none' cell: the output ignores the input; jacob_cov/naswot are NaN."""
    torch.manual_seed(0)
    net = network.build(
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "ImageNet16-120"
    )
    b = [(torch.randn(8, 3, 16, 16), torch.randint(0, 120, (8,)))] * 2
    s = proxies.compute(net, proxies.names(), b)
    assert math.isnan(s["jacob_cov"]) and math.isnan(s["naswot"])
    assert math.isfinite(s["synflow"]) and math.isfinite(s["params"])


def test_foresight_variant_changes_scores(nb201):
    _, b = nb201
    torch.manual_seed(3)
    fs = network.build(GOOD, "ImageNet16-120", variant="foresight")
    torch.manual_seed(3)
    off = network.build(GOOD, "ImageNet16-120")
    assert score(fs, "snip", b) != score(off, "snip", b)


def test_registry_and_resolve():
    assert proxies.resolve("all") == [
        n for n in proxies.names() if n != "fisher_channel"
    ]
    assert proxies.resolve("snip, synflow") == ["snip", "synflow"]
    assert proxies.resolve("abdelfattah") == list(proxies.ABDELFATTAH)
    with pytest.raises(ValueError, match="unknown proxy"):
        proxies.resolve("nope")
    for name in proxies.names():
        spec = proxies.get(name)
        assert spec.direction in (1, -1) and spec.output in ("per_layer", "scalar")
    assert proxies.get("synflow").bn is False and proxies.get("synflow").float64
    assert proxies.get("zico").n_batches >= 2
