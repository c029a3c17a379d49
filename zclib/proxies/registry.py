"""The proxy spec, the ``@proxy`` decorator and :func:`register` (kept apart from the
proxy modules to avoid import cycles).

    @proxy("synflow", needs={"synflow"}, bn=False, float64=True, uses_data=False,
           uses_labels=False)
    def synflow(p): ...
    REGISTRY = register([synflow, ...])      # {name: ProxySpec}, explicit list

``@proxy`` attaches a spec to the function and returns the function itself, so it
stays testable on its own and can be registered again under a second name with
other needs (stack the decorators, as foresight stacks ``@measure``); the specs are
listed top to bottom. :func:`register` builds a registry from an explicit list of
functions and refuses a name registered twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProxySpec:
    """What a proxy needs and how to read it. The pass follows it: see
    :mod:`zclib.proxies.passes`.

    Attributes:
        name: registry key and column name.
        fn: ``fn(view) -> per-layer values or scalar``.
        direction: +1 if a higher score predicts higher accuracy, -1 otherwise.
        needs: quantities of :class:`~zclib.proxies.passes.Pass` it reads.
        output: ``"per_layer"`` (summed by the reducer) or ``"scalar"``.
        bn: False runs it on the network without BatchNorm (synflow).
        float64: True runs it in double precision (network and images).
        n_batches: minibatches it needs at least (zico: 2); others see batch 0.
        uses_data: False withholds the image content (the proxy sees the shape).
        uses_labels: False withholds the labels.
        in_all: False leaves it out of ``"all"`` (a variant scored only when named).
        packable: False when the function computes from the network itself (not
            only from pass quantities and weights): a packed pass cannot serve it,
            it runs in a per-cell pass of its own (:mod:`zclib.proxies.packed`).
        requires: facts about the scored model beyond what its ``needs`` imply
            (:func:`zclib.score_model.requirements`): ``"layers"`` (Conv2d/Linear
            weights), ``"global_pool"`` (an ``nn.AdaptiveAvgPool2d``),
            ``"feature_maps"`` (image batches and a global pool), ``"rgb_images"``
            ((N, 3, H, H) batches).
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
    in_all: bool = True
    packable: bool = True
    requires: frozenset[str] = field(default_factory=frozenset)
    reference: str = ""


OUTPUTS = ("per_layer", "scalar")


def proxy(name: str, **spec) -> Callable[[Callable], Callable]:
    """Attach the spec ``ProxySpec(name, fn, **spec)`` to ``fn`` (in ``fn.specs``)
    and return ``fn`` itself; stacked decorators give one function several specs."""

    def wrap(fn: Callable) -> Callable:
        fields = dict(
            spec,
            needs=frozenset(spec.get("needs", ())),
            requires=frozenset(spec.get("requires", ())),
        )
        fn.specs = (ProxySpec(name=name, fn=fn, **fields), *getattr(fn, "specs", ()))
        return fn

    return wrap


def register(fns: Iterable[Callable]) -> dict[str, ProxySpec]:
    """``{name: spec}`` for every spec of every function, in order.

    Raises:
        ValueError: a name registered twice (naming both functions), or a function
            without ``@proxy``.
    """
    out: dict[str, ProxySpec] = {}
    for fn in fns:
        specs = getattr(fn, "specs", None)
        if not specs:
            raise ValueError(f"{fn!r} is not decorated with @proxy")
        for s in specs:
            if s.name in out:
                raise ValueError(
                    f"proxy {s.name!r} registered twice: by "
                    f"{out[s.name].fn.__module__}.{out[s.name].fn.__qualname__} and "
                    f"{fn.__module__}.{fn.__qualname__}"
                )
            out[s.name] = s
    return out
