"""The proxy spec and the ``@proxy`` decorator (kept apart to avoid import cycles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProxySpec:
    """What a proxy needs and how to read it.

    Attributes:
        name: registry key and column name.
        fn: ``fn(pass) -> per-layer values or scalar``.
        direction: +1 if a higher score predicts higher accuracy, -1 otherwise.
        needs: quantities of :class:`~zclib.proxies.passes.Pass` it reads.
        output: ``"per_layer"`` (summed by the reducer) or ``"scalar"``.
        bn: whether the network keeps BatchNorm (synflow: False).
        float64: whether it runs in double precision.
        n_batches: minibatches it needs (zico: 2).
        uses_data / uses_labels: whether image data / labels affect the value.
        reference: where its semantics come from.
    """

    name: str
    fn: Callable
    direction: int = 1
    needs: frozenset[str] = field(default_factory=frozenset)
    output: str = "per_layer"
    bn: bool = True
    float64: bool = False
    n_batches: int = 1
    uses_data: bool = True
    uses_labels: bool = True
    reference: str = ""


def proxy(name: str, **spec) -> Callable[[Callable], Callable]:
    """Register a function as a proxy: attaches ``fn.spec`` and returns ``fn``
    itself."""

    def wrap(fn: Callable) -> Callable:
        needs = frozenset(spec.pop("needs", ()))
        fn.spec = ProxySpec(name=name, fn=fn, needs=needs, **spec)
        return fn

    return wrap
