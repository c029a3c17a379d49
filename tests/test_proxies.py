"""Each proxy against an independent re-derivation on a tiny network, plus
invariances driven by the registry: every registered proxy is tested against what
its spec says (labels, image content, BN, float64, batches), the way timm
parametrizes its tests over ``list_models()``."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zclib import network, proxies
from zclib.proxies.jacob_cov import eval_score
from zclib.proxies.passes import QUANTITIES, Pass
from zclib.proxies.registry import OUTPUTS, ProxySpec, proxy, register
from zclib.proxies.zico import zico_from_grads

ALL = proxies.names()

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
    # computed in the network's float32 (float64=False): bit for bit, the reducer
    # summing the float32 norms in float64
    assert score(net, "grad_norm", b) == float(
        g[0].norm().double() + g[1].norm().double()
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
    g = weight_grads(net, x, y)  # float32, bit for bit: |w * dL/dw|
    w = [net.conv.weight.detach(), net.fc.weight.detach()]
    assert score(net, "snip", b) == float(
        sum((wi * gi).abs().double().sum() for wi, gi in zip(w, g, strict=True))
    )


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
    # in the network's float32 (float64=False), bit for bit: -w * Hg from autograd
    x, w = b[0][0], [net.conv.weight, net.fc.weight]
    g = torch.autograd.grad(F.cross_entropy(net(x), y), w, create_graph=True)
    hg = torch.autograd.grad(sum((gi.detach() * gi).sum() for gi in g), w)
    assert got == float(
        sum((-(wi.detach() * h)).double().sum() for wi, h in zip(w, hg, strict=True))
    )


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
    # in the network's float32 (float64=False), bit for bit, through the modules
    a1 = net.conv(x)
    a1.retain_grad()
    a2 = net.fc(net.pool(net.relu(net.bn(a1))).flatten(1))
    a2.retain_grad()
    F.cross_entropy(a2, y).backward()
    c1 = (a1 * a1.grad).sum((2, 3)).pow(2).mean(0).mul(0.5).detach()
    c2 = (a2 * a2.grad).pow(2).mean(0).mul(0.5).detach()
    assert score(net, "fisher", b) == float(
        (c1 * 27).double().sum() + (c2 * 4).double().sum()
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
    # the float32 Jacobian, bit for bit (float64=False)
    assert score(net, "jacob_cov", b) == eval_score(jac)
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
    net = network.build(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|"
        "+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
        "ImageNet16-120",
    )
    x = torch.randn(12, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(12, dtype=torch.long)
    K = np.zeros((12, 12))
    inputs = []

    def plain(_m, inp, out):
        c = (out.detach().flatten(1) > 0).double()
        K[:] += (c @ c.T + (1 - c) @ (1 - c).T).numpy()
        inputs.append(inp[0])

    ref = copy.deepcopy(net).train()
    hooks = [
        m.register_forward_hook(plain)
        for m in ref.modules()
        if isinstance(m, torch.nn.ReLU)
    ]
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
    assert score(net, "zico", b) == zico_from_grads(grads)  # float32 grads, exactly
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
    W1, W2 = (
        net[0].weight.detach().double().abs(),
        net[1].weight.detach().double().abs(),
    )
    R = float(
        torch.ones(3, dtype=torch.float64)
        @ W2
        @ W1
        @ torch.ones(4, dtype=torch.float64)
    )
    assert score(net, "synflow", [(x, y)]) == pytest.approx(2 * R, rel=1e-12)
    assert (net[0].weight < 0).any()  # the caller's network was not linearised


def test_synflow_by_hand_scores_the_bn_free_network(tiny):
    """On Tiny (conv-BN-ReLU-pool-fc) synflow is the float64 synaptic flow of the
    network *without* its BN: R = sum of |fc|(mean(ReLU(|conv| * ones))) + |bias|."""
    net, b = tiny
    wc = net.conv.weight.detach().double().abs().requires_grad_()
    wf = net.fc.weight.detach().double().abs().requires_grad_()
    ones = torch.ones(1, 3, 5, 5, dtype=torch.float64)
    h = F.relu(F.conv2d(ones, wc, padding=1)).mean((2, 3))
    R = F.linear(h, wf, net.fc.bias.detach().double().abs()).sum()
    gc, gf = torch.autograd.grad(R, [wc, wf])
    expected = float((wc * gc).sum().detach() + (wf * gf).sum().detach())
    assert score(net, "synflow", b) == pytest.approx(expected, rel=1e-12)


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
    b = [
        (
            torch.randn(16, 3, 16, 16, generator=g),
            torch.randint(0, 120, (16,), generator=g),
        )
        for _ in range(2)
    ]
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


def test_registry_and_resolve(monkeypatch):
    assert proxies.resolve("all") == [n for n in ALL if proxies.get(n).in_all]
    # a variant (in_all=False) is scored only when named
    (spec,) = register([proxy("variant_x", in_all=False)(lambda p: 0.0)]).values()
    monkeypatch.setitem(proxies.REGISTRY, "variant_x", spec)
    assert "variant_x" not in proxies.resolve("all")
    assert proxies.resolve("variant_x") == ["variant_x"]
    assert proxies.resolve("snip, synflow") == ["snip", "synflow"]
    assert proxies.resolve("abdelfattah") == list(proxies.ABDELFATTAH)
    with pytest.raises(ValueError, match="unknown proxy"):
        proxies.resolve("nope")


# -- the registry drives the tests: every proxy against its spec ---------------------


@pytest.mark.parametrize("name", ALL)
def test_spec_is_well_formed(name):
    s = proxies.get(name)
    assert s.name == name and s.direction in (1, -1) and s.output in OUTPUTS
    assert s.n_batches >= 1 and s.needs <= set(QUANTITIES), s.needs


@pytest.fixture(scope="module")
def variations(nb201):
    """Every proxy's score (fused) on the NB201 network and on variations of it."""
    net, b = nb201
    g = torch.Generator().manual_seed(9)
    # not a bijection: epe_nas groups samples by label, so a renaming of the classes
    # would leave it unchanged although it uses them
    relabelled = [(x, y % 3) for x, y in b]
    new_images = [(torch.randn(x.shape, generator=g) * 2, y) for x, y in b]
    bn_changed = copy.deepcopy(net)
    with torch.no_grad():
        for m in bn_changed.modules():
            if isinstance(m, nn.BatchNorm2d):  # official variant: affine, tracked
                m.weight.uniform_(0.5, 2.0, generator=g)
                m.bias.normal_(generator=g)
                m.running_mean.normal_(generator=g)
                m.running_var.uniform_(0.5, 2.0, generator=g)
    one_batch = [n for n in ALL if proxies.get(n).n_batches == 1]
    return {
        "base": proxies.compute(net, ALL, b),
        "relabelled": proxies.compute(net, ALL, relabelled),
        "new_images": proxies.compute(net, ALL, new_images),
        "bn_changed": proxies.compute(bn_changed, ALL, b),
        "bn_free": proxies.compute(network.without_bn(copy.deepcopy(net)), ALL, b),
        "float64": proxies.compute(
            copy.deepcopy(net).double(), ALL, [(x.double(), y) for x, y in b]
        ),
        "one_batch": proxies.compute(net, one_batch, b[:1]),
    }


@pytest.mark.parametrize("name", ALL)
def test_finite_on_a_normal_cell(variations, name):
    assert math.isfinite(variations["base"][name])


@pytest.mark.parametrize("name", ALL)
def test_uses_labels_is_true(variations, name):
    """uses_labels=False: invariant under relabelling; True: the score changes."""
    same = variations["base"][name] == variations["relabelled"][name]
    assert same is not proxies.get(name).uses_labels


@pytest.mark.parametrize("name", ALL)
def test_uses_data_is_true(variations, name):
    """uses_data=False: invariant under new image content; True: it changes."""
    same = variations["base"][name] == variations["new_images"][name]
    assert same is not proxies.get(name).uses_data


@pytest.mark.parametrize("name", [n for n in ALL if not proxies.get(n).bn])
def test_bn_false_scores_the_bn_free_network(variations, name):
    """bn=False: the score of the network without BN, whatever its BN holds."""
    v = variations
    assert v["base"][name] == v["bn_free"][name] == v["bn_changed"][name]


@pytest.mark.parametrize("name", [n for n in ALL if proxies.get(n).float64])
def test_float64_computes_in_double(variations, name):
    """float64=True: a float32 network is cast, so the score equals the one of the
    same network given in float64, bit for bit."""
    assert variations["base"][name] == variations["float64"][name]


@pytest.mark.parametrize("name", ALL)
def test_n_batches_honoured(nb201, variations, name):
    net, b = nb201
    n = proxies.get(name).n_batches
    if n == 1:  # batch 0 only: further batches change nothing
        assert variations["one_batch"][name] == variations["base"][name]
    else:
        with pytest.raises(ValueError, match=f"needs {n} batches"):
            proxies.compute(net, [name], b[: n - 1])


@pytest.mark.parametrize("mode", ["fused", "naive"])
@pytest.mark.parametrize("name", ALL)
def test_the_pass_prepares_what_the_spec_says(nb201, monkeypatch, name, mode):
    """What the proxy function receives: BN iff bn, float64 iff float64, labels iff
    uses_labels, image content iff uses_data, batch 0 only iff n_batches == 1 (scored
    alongside every other proxy in the fused mode)."""
    net, b = nb201
    spec = proxies.get(name)
    seen = {}

    def probe(p):
        seen["bn"] = any(isinstance(m, nn.BatchNorm2d) for m in p.net.modules())
        seen["dtypes"] = {t.dtype for t in p.net.parameters()}
        seen["batches"] = p.batches
        return spec.fn(p)

    monkeypatch.setitem(proxies.REGISTRY, name, dataclasses.replace(spec, fn=probe))
    proxies.compute(net, ALL if mode == "fused" else [name], b, mode=mode)
    assert seen["bn"] is spec.bn
    dtype = torch.float64 if spec.float64 else torch.float32
    assert seen["dtypes"] == {dtype}
    assert len(seen["batches"]) == (len(b) if spec.n_batches > 1 else 1)
    for (x, y), (xs, ys) in zip(b, seen["batches"], strict=False):
        assert xs.shape == x.shape and xs.dtype == dtype
        assert torch.equal(xs, x.to(dtype)) if spec.uses_data else not xs.any()
        assert torch.equal(ys, y) if spec.uses_labels else ys is None


def _equal(a, b) -> bool:
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(u, v) for u, v in zip(a, b, strict=True))
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


@pytest.mark.parametrize("key", sorted(QUANTITIES))
def test_quantity_table_is_true(nb201, key):
    """The pass's table of what each quantity depends on (images, labels), which
    decides what a proxy with uses_data/uses_labels=False may read."""
    net, b = nb201
    on_data, on_labels = QUANTITIES[key]

    def q(batches):
        return Pass(copy.deepcopy(net), batches, needs={key})[key]

    base = q(b)
    assert _equal(base, q([(x, (y + 7) % 120) for x, y in b])) is not on_labels
    assert _equal(base, q([(x * 2 + 1, y) for x, y in b])) is not on_data


def test_a_withheld_quantity_is_refused(nb201, monkeypatch):
    net, b = nb201
    spec = ProxySpec(
        "peek",
        fn=lambda p: [g.norm() for g in p["weight_grad"]],
        needs=frozenset({"weight_grad"}),
        uses_labels=False,
    )
    monkeypatch.setitem(proxies.REGISTRY, "peek", spec)
    with pytest.raises(KeyError, match="'peek' reads 'weight_grad'.*labels"):
        proxies.compute(net, ["peek"], b)


def test_one_function_registered_twice_without_copying_it(tiny, monkeypatch):
    """Stacked @proxy (as foresight stacks @measure): two specs, one function; the
    second registration runs on the BN-free network."""

    @proxy("norms", needs={"weight_grad"})
    @proxy("norms_bn_free", needs={"weight_grad"}, bn=False, in_all=False)
    def norms(p):
        return [g.norm() for g in p["weight_grad"]]

    reg = register([norms])
    assert list(reg) == ["norms", "norms_bn_free"]
    assert reg["norms"].fn is reg["norms_bn_free"].fn is norms
    assert reg["norms"].bn and not reg["norms_bn_free"].bn
    with pytest.raises(ValueError, match="'norms' registered twice"):
        register([norms, norms])
    with pytest.raises(ValueError, match="not decorated"):
        register([lambda p: 0.0])
    for k, v in reg.items():
        monkeypatch.setitem(proxies.REGISTRY, k, v)
    net, b = tiny
    s = proxies.compute(net, ["norms", "norms_bn_free", "grad_norm"], b)
    assert s["norms"] == s["grad_norm"]
    bn_free = network.without_bn(copy.deepcopy(net))
    assert s["norms_bn_free"] == score(bn_free, "grad_norm", b) != s["norms"]
