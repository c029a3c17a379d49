"""zclib's proxies against the reference code on identical weights and batch
(zclib.oracle): skipped when ../shared/reference/foresight-a43bfbc is absent.

    pytest -q -s tests/test_oracle.py   # -s prints the relative differences
"""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import torch
import torch.nn.functional as F

from zclib import data, oracle, proxies
from zclib.timing import torch_threads

# The cells compared (cifar10). NONE_AVG: `none` edges and avg_pool; DEAD: every
# path to the output crosses a `none` edge, so the cells output 0 whatever the input
# (gradients vanish, jacob_cov is NaN on both sides); CONV: conv-heavy; GOOD: the
# zclib.network docstring's cell.
NONE_AVG = (
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|"
)
DEAD = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|none~2|"
CONV = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)
GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
CHEAP = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
CELLS = {"none_avg": NONE_AVG, "dead": DEAD, "conv": CONV, "good": GOOD}
BATCH = 8  # images in the fast tier (each cell: ~4 s on one core); slow tier: 64
SIX = list(proxies.ABDELFATTAH)


# the reference's jacob_cov on the dead cell: np.corrcoef of zero rows (it then
# prints the LinAlgError and returns NaN, as zclib does)
pytestmark = pytest.mark.filterwarnings(
    "ignore:invalid value encountered:RuntimeWarning"
)


@pytest.fixture(scope="module", autouse=True)
def one_core():
    """One torch thread: the sizes here are too small to gain from more, and a busy
    machine makes extra threads much slower."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def foresight():
    """The reference folder; skips when it is absent."""
    try:
        return oracle.reference_dir()
    except oracle.ReferenceNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def batch(foresight):
    b = data.get_batch("cifar10", BATCH, 0)
    return b.x, b.y


@pytest.fixture(scope="module")
def scored(batch):
    """``{cell name: (ours, reference)}``, computed once."""
    x, y = batch
    return {k: oracle.side_by_side(a, "cifar10", x, y) for k, a in CELLS.items()}


def _report(tag: str, ours: dict, ref: dict) -> None:
    rel = {m: oracle.relative_difference(ours[m], ref[m]) for m in ref}
    print(tag, " ".join(f"{m}={v:.1e}" for m, v in rel.items()))


@pytest.mark.parametrize("name", list(CELLS))
def test_zclib_equals_reference(scored, name):
    ours, ref = scored[name]
    _report(name, ours, ref)
    assert set(ref) == set(SIX)
    assert oracle.mismatches(ours, ref) == []


def test_dead_cell_is_degenerate_on_both_sides(scored):
    """The all-`none` output: no loss gradient reaches a weight but the classifier
    bias (grad_norm, snip, grasp, synflow exactly 0), fisher only sees the
    classifier's output, and the zero Jacobian gives NaN in both codes."""
    ours, ref = scored["dead"]
    for m in ("grad_norm", "snip", "grasp", "synflow"):
        assert ours[m] == ref[m] == 0.0
    assert ours["fisher"] > 0 and ref["fisher"] > 0
    assert (
        ours["jacob_cov"] != ours["jacob_cov"] and ref["jacob_cov"] != ref["jacob_cov"]
    )


def _snip_signed(p):
    return [
        m.weight.detach() * g for m, g in zip(p.layers, p["weight_grad"], strict=True)
    ]


def _grad_norm_squared(p):
    return [g.norm() ** 2 for g in p["weight_grad"]]


@pytest.mark.parametrize(
    "name,fn", [("snip", _snip_signed), ("grad_norm", _grad_norm_squared)]
)
def test_oracle_reports_a_broken_proxy(scored, batch, monkeypatch, name, fn):
    """A proxy that lost the reference's semantics (snip without abs, grad_norm
    squared) is reported, and only that one."""
    _, ref = scored["good"]
    spec = proxies.get(name)
    monkeypatch.setitem(proxies.REGISTRY, name, dataclasses.replace(spec, fn=fn))
    net, _ = oracle.build_pair(GOOD, "cifar10")
    ours = proxies.compute(net, SIX, [batch])
    found = oracle.mismatches(ours, ref)
    assert len(found) == 1 and found[0].startswith(f"{name}:"), found


def test_weights_copied_both_ways_give_the_same_network(batch):
    x, _ = batch
    net, ref = oracle.build_pair(GOOD, "cifar10", seed=3)
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref(x), rtol=1e-5, atol=1e-6)
    # the other way round: the reference's weights into a fresh zclib network
    other = oracle.build_pair(GOOD, "cifar10", seed=4)[0]
    oracle.copy_weights(ref, other)
    for a, b in zip(
        net.state_dict().values(), other.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="cells differ"):
        oracle.copy_weights(oracle.build_reference(CONV), net)


def test_unused_reference_ops_get_no_gradient(batch):
    """The claim behind not building them in zclib: the four unused ops of every
    edge are never run, so they get no gradient (and score exactly zero)."""
    x, y = batch
    net, ref = oracle.build_pair(NONE_AVG, "cifar10")
    F.cross_entropy(ref(x), y).backward()
    unused = set(oracle.unused_modules(ref))
    layers = {n: m for n, m in ref.named_modules() if isinstance(m, torch.nn.Conv2d)}
    # 15 cells x 6 edges x 2 convs, less the one nor_conv_1x1 each cell uses
    assert len(unused) == 15 * (6 * 2 - 1)
    for n in unused:
        assert layers[n].weight.grad is None, n
    used = [m for n, m in layers.items() if n not in unused]
    assert len(used) == len(
        [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    )
    assert all(m.weight.grad is not None for m in used)


def test_time_reference_is_find_measures_as_a_user_runs_it(batch):
    """Per-arch seconds and the scores of the reference's own initialisation
    (seeded), equal to reference_scores on that network."""
    x, y = batch
    (t,) = oracle.time_reference([CHEAP], "cifar10", x, y, ["grad_norm", "fisher"])
    assert t.arch == CHEAP and t.seconds > 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ref = oracle.build_reference(CHEAP)
    expected = oracle.reference_scores(
        CHEAP, "cifar10", x, y, ["grad_norm", "fisher"], ref=ref
    )
    assert t.row == {"arch_str": CHEAP, **expected}


def test_reference_hook_warning_is_silenced_locally(batch):
    x, y = batch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        oracle.reference_scores(CHEAP, "cifar10", x, y, ["fisher"])
        assert warnings.filters == before
    assert not [w for w in caught if "backward hook" in str(w.message)]


def test_missing_reference_is_one_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv(oracle.ENV_VAR, str(tmp_path))
    with pytest.raises(oracle.ReferenceNotFoundError) as err:
        oracle.reference_dir()
    assert isinstance(err.value, FileNotFoundError)
    assert "\n" not in str(err.value) and oracle.ENV_VAR in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset,arch",
    [("cifar10", a) for a in CELLS.values()]
    + [("cifar100", GOOD), ("ImageNet16-120", NONE_AVG)],
)
def test_zclib_equals_reference_full_batch(foresight, dataset, arch):
    b = data.get_batch(dataset, 64, 0)
    ours, ref = oracle.side_by_side(arch, dataset, b.x, b.y)
    _report(f"{dataset} {arch}", ours, ref)
    assert oracle.mismatches(ours, ref) == []
