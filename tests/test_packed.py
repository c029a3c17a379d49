"""Packed passes (K networks side by side) give the per-cell scores.

Small networks (C=4, N=1, 8x8 random images) keep this fast; the packing itself does
not depend on the width, depth or resolution, and one test packs the benchmark's
network (C=16, N=5) to check its costs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from zclib import network, packing, proxies, space
from zclib.network import build
from zclib.proxies.packed import FLOAT32_RTOL, compute_packed
from zclib.scoring import Scorer

NONE, SKIP, C1, C3, POOL = (space.OPS.index(o) for o in space.OPS)
SPECIAL = [
    (NONE,) * 6,  # nothing at all
    (C3, C3, C3, NONE, NONE, NONE),  # node 3 ignores the input: edges into it are none
    (POOL,) * 6,
    (SKIP,) * 6,
    (C3,) * 6,
    (C1, POOL, SKIP, NONE, C3, POOL),
]
CELLS = [space.as_cell(a) for a in space.sample(30, seed=1)] + SPECIAL  # 36 cells
NAMES = proxies.resolve("all")
SMALL = dict(C=4, N=1)
# ZiCo divides by the spread of two batches' gradients: where they nearly agree, the
# float64 rounding of a reordered sum (1e-16) is amplified; measured up to 1.3e-11
# relative on the benchmark network, so it gets its own float64 tolerance.
FLOAT64_RTOL = 1e-12
FLOAT64_RTOL_ZICO = 1e-9


def _batches(dtype, n=2, size=8, classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        (
            torch.randn(6, 3, size, size, generator=g).to(dtype),
            torch.randint(0, classes, (6,), generator=g),
        )
        for _ in range(n)
    ]


def _nets(cells, dtype, variant="official", **kw):
    kw = {**SMALL, **kw}
    return [build(c, "cifar10", seed=0, variant=variant, **kw).to(dtype) for c in cells]


def _per_cell(cells, dtype, batches, variant="official"):
    return [
        proxies.compute(n, NAMES, batches, context={"arch": space.format_arch(c)})
        for n, c in zip(_nets(cells, dtype, variant), cells, strict=True)
    ]


def _packed(cells, dtype, batches, K, variant="official"):
    rows = []
    for i in range(0, len(cells), K):
        group = cells[i : i + K]
        ctx = [{"arch": space.format_arch(c)} for c in group]
        rows += compute_packed(_nets(group, dtype, variant), NAMES, batches, ctx)
    return rows


def mismatches(got, ref, rtol) -> list[str]:
    """(cell, proxy) pairs where packed and per-cell differ by more than
    ``rtol[proxy]`` relative to max(|per-cell|, the proxy's median |per-cell|) (a
    signed sum such as grasp can be ~0 on one cell), or in NaN-ness."""
    out = []
    for name in NAMES:
        r = np.array([row[name] for row in ref], dtype=float)
        g = np.array([row[name] for row in got], dtype=float)
        scale = np.nanmedian(np.abs(r)) if np.isfinite(r).any() else 1.0
        for k, (a, b) in enumerate(zip(g, r, strict=True)):
            if math.isnan(a) or math.isnan(b):
                if math.isnan(a) != math.isnan(b):
                    out.append(f"cell {k} {name}: {a} vs {b}")
                continue
            if abs(a - b) > rtol(name) * max(abs(b), scale, 1e-300):
                out.append(f"cell {k} {name}: {a!r} vs {b!r}")
    return out


def _rtol64(name):
    return FLOAT64_RTOL_ZICO if name == "zico" else FLOAT64_RTOL


def _rtol32(name):
    return FLOAT32_RTOL.get(name, FLOAT64_RTOL)


@pytest.fixture(scope="module")
def ref64():
    return _per_cell(CELLS, torch.float64, _batches(torch.float64))


@pytest.fixture(scope="module")
def ref32():
    return _per_cell(CELLS, torch.float32, _batches(torch.float32))


def test_cells_cover_the_cases():
    assert len(CELLS) >= 30
    assert any(NONE in c for c in CELLS[:30]) and any(POOL in c for c in CELLS[:30])


def test_forward_matches_each_network():
    nets = _nets(CELLS[:7], torch.float64)
    packed = packing.PackedNetwork(nets).train()
    x = _batches(torch.float64, 1)[0][0]
    out = packed(packed.replicate(x))
    for k, n in enumerate(nets):
        torch.testing.assert_close(out[:, k], n.train()(x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("K", [1, 2, 7])
def test_packed_equals_per_cell_float64(ref64, K):
    got = _packed(CELLS, torch.float64, _batches(torch.float64), K)
    assert mismatches(got, ref64, _rtol64) == []


@pytest.mark.parametrize("K", [2, 7])
def test_packed_equals_per_cell_float32(ref32, K):
    got = _packed(CELLS, torch.float32, _batches(torch.float32), K)
    assert mismatches(got, ref32, _rtol32) == []


def test_packed_is_as_accurate_as_per_cell_in_float32(ref32, ref64):
    """Against float64, packed float32 errs no more than ~3x the per-cell float32
    error (+ a floor for the proxies that are exact in both)."""
    got = _packed(CELLS, torch.float32, _batches(torch.float32), 7)

    def err(rows, name):
        r = np.array([x[name] for x in ref64], dtype=float)
        g = np.array([x[name] for x in rows], dtype=float)
        m = np.isfinite(r) & np.isfinite(g)
        scale = np.maximum(np.abs(r[m]), np.nanmedian(np.abs(r)))
        return float(np.max(np.abs(g[m] - r[m]) / scale))

    for name in NAMES:
        assert err(got, name) <= 5 * err(ref32, name) + 1e-6, name


@pytest.mark.slow
def test_benchmark_network_float32():
    """The stated float32 bounds, on the benchmark network and real images."""
    from zclib import data

    b = [data.get_batch("cifar10", 16, 0, index=i) for i in range(2)]
    batches = [(x.x, x.y) for x in b]
    cells = CELLS[:8]
    ref = [proxies.compute(build(c, "cifar10", seed=0), NAMES, batches) for c in cells]
    got = compute_packed([build(c, "cifar10", seed=0) for c in cells], NAMES, batches)
    assert mismatches(got, ref, _rtol32) == []


def test_foresight_variant_float64():
    cells, batches = CELLS[::5], _batches(torch.float64)
    ref = _per_cell(cells, torch.float64, batches, "foresight")
    got = _packed(cells, torch.float64, batches, 4, "foresight")
    assert mismatches(got, ref, _rtol64) == []


class _SharedBN(nn.Module):
    """A wrong packing: batch statistics shared across the packed networks."""

    def __init__(self, bn: nn.BatchNorm2d, m: int):
        super().__init__()
        self.bn, self.m = bn, m

    def forward(self, x):
        B, mc, H, W = x.shape
        c = mc // self.m
        xs = x.view(B, self.m, c, H, W).transpose(1, 2).reshape(B, c, self.m * H, W)
        mean = xs.mean((0, 2, 3), keepdim=True)
        var = xs.var((0, 2, 3), unbiased=False, keepdim=True)
        xs = (xs - mean) / torch.sqrt(var + self.bn.eps)
        y = xs.view(B, c, self.m, H, W).transpose(1, 2).reshape(B, mc, H, W)
        w = self.bn.weight.view(1, -1, 1, 1) if self.bn.weight is not None else 1
        b = self.bn.bias.view(1, -1, 1, 1) if self.bn.bias is not None else 0
        return y * w + b


def test_a_wrong_packing_fails(ref64, monkeypatch):
    right = packing.pack_bn

    def shared(bns, cells):
        bn = right(bns, cells)
        return _SharedBN(bn, len(cells)) if isinstance(bn, nn.BatchNorm2d) else bn

    monkeypatch.setattr(packing, "pack_bn", shared)
    got = _packed(CELLS[:7], torch.float64, _batches(torch.float64), 7)
    bad = mismatches(got, ref64[:7], _rtol64)
    assert len(bad) > 7  # many cells and proxies move, not one stray value


def test_packed_costs_equal_network_cost():
    cells = CELLS[:12]
    packed = packing.PackedNetwork([build(c, "cifar10", seed=0) for c in cells])
    for c, got in zip(cells, packed.cost(32), strict=True):
        want = network.cost(c, "cifar10")
        assert got["params_M"] == pytest.approx(want["params_M"], rel=1e-12)
        assert got["flops_M"] == pytest.approx(want["flops_M"], rel=1e-12)


def test_packing_draws_nothing_from_the_rng():
    nets = _nets(CELLS[:3], torch.float32)
    state = torch.random.get_rng_state()
    packing.PackedNetwork(nets)
    assert torch.equal(state, torch.random.get_rng_state())


def test_mixed_networks_are_refused():
    a = build(CELLS[0], "cifar10", seed=0, **SMALL)
    b = build(CELLS[1], "cifar100", seed=0, **SMALL)
    with pytest.raises(ValueError, match="share"):
        packing.PackedNetwork([a, b])


def test_unpackable_proxy_runs_per_cell(monkeypatch, shared_dir):  # CIFAR-10 batch
    spec = proxies.get("snip")
    own = type(spec)(**{**spec.__dict__, "name": "snip_own", "packable": False})
    monkeypatch.setitem(proxies.REGISTRY, "snip_own", own)
    cells, batches = CELLS[:3], _batches(torch.float64)
    got = compute_packed(_nets(cells, torch.float64), ["snip", "snip_own"], batches)
    for row in got:
        assert row["snip_own"] == pytest.approx(row["snip"], rel=1e-12)
    scorer = Scorer("cifar10", ["snip", "snip_own"], batch_size=4, pack=2, device="cpu")
    assert scorer.per_cell_proxies == ["snip_own"]


def test_scorer_packs_and_records_it(shared_dir):  # the Scorers draw CIFAR-10
    archs = [space.format_arch(c) for c in CELLS[30:34]]
    one = Scorer("cifar10", "abdelfattah", batch_size=4)
    two = Scorer("cifar10", "abdelfattah", batch_size=4, pack=3)
    assert one.pack == 1  # the CPU default
    a, b = one.score_many(archs), two.score_many(archs)
    assert [r["pack"] for r in a] == [1] * 4 and [r["pack"] for r in b] == [3, 3, 3, 1]
    assert [r["arch_str"] for r in b] == archs
    for name in proxies.ABDELFATTAH:
        for ra, rb in zip(a, b, strict=True):
            if math.isnan(ra[name]):
                assert math.isnan(rb[name])
            else:
                assert rb[name] == pytest.approx(ra[name], rel=_rtol32(name), abs=1e-9)
    with pytest.raises(ValueError, match="fused"):
        Scorer("cifar10", "snip", batch_size=4, pack=2, mode="naive")
