"""Where the CPU time of a scoring goes: top operators and grouped shares.

    from zclib.speed.profile import profile_ops
    prof = profile_ops(lambda: scorer.score_many(archs), n_archs=len(archs))
    prof["groups"]["data movement"]["share"], prof["top"][0]["op"]

:func:`profile_ops` runs the work once under ``torch.profiler`` (CPU activity) and
sums every event's *self* CPU time (time in the op itself, not in the ops it called;
the self times of all events add up to the profiled time). It reads the profiler's
raw events (``prof.profiler.kineto_results.events()``) and nests them by their
start and end times itself, as ``prof.events()`` does (which builds a Python object
and a tree node per event: slow for the ~10^5 events of one scoring, so the
profile would take far longer than the work profiled). Each event is put in one
group (:data:`GROUPS`, :func:`op_group`): first by its own name (convolution
forward or backward kernels; the data movement a packed network adds: copies,
fills, gathers and scatters, concatenations), else by the nearest enclosing event
that names a layer kind (batch norm, pooling, convolution: e.g. the element-wise
ops inside zclib's own batch norm, ``zclib.kernels._BNTrain``), else ``other``.
So the JSON itself says whether a packed pass spends its time on arithmetic or on
moving channels around. The profiler adds overhead per op, so read shares, not
absolute milliseconds.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Callable, Sequence

from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

# (group, pattern on an op's own name); first match wins
OWN_NAME = (
    ("convolution backward", re.compile(r"convolution_backward|conv2d_backward")),
    (
        "convolution forward",
        re.compile(
            r"^aten::(_?convolution|conv2d|mkldnn_convolution|_slow_conv2d_forward|thnn_conv2d)"
        ),
    ),
    (
        "data movement",
        re.compile(
            r"^aten::(copy_|fill_|zero_|index_select|index_add_?|cat|clone|"
            r"_to_copy|contiguous|stack|index|index_put_?|scatter_add_?|gather)$"
        ),
    ),
)
# (group, pattern on an enclosing event's name); nearest enclosing match wins
ENCLOSING = (
    ("batch norm", re.compile(r"batch_norm|BNTrain|BNBackward|BatchNorm", re.I)),
    ("pooling", re.compile(r"pool", re.I)),
    ("convolution backward", re.compile(r"ConvolutionBackward")),
    ("convolution forward", re.compile(r"convolution|conv2d")),
)
GROUPS = (
    "convolution forward",
    "convolution backward",
    "data movement",
    "batch norm",
    "pooling",
    "other",
)


@functools.cache
def _own_group(name: str) -> str | None:
    return next((g for g, pattern in OWN_NAME if pattern.search(name)), None)


@functools.cache
def _layer_group(name: str) -> str | None:
    return next((g for g, pattern in ENCLOSING if pattern.search(name)), None)


def op_group(name: str, enclosing: Sequence[str] = ()) -> str:
    """The group (one of :data:`GROUPS`) of an event.

    Args:
        name: the event's name, e.g. ``"aten::index_add_"``.
        enclosing: the names of the events it ran inside, innermost first.

    Returns:
        The group name.
    """
    layer = next(filter(None, map(_layer_group, [name, *enclosing])), None)
    return _own_group(name) or layer or "other"


def self_times(prof: profile) -> list[tuple[str, float, str]]:
    """``(name, self CPU microseconds, group)`` of every CPU event of a finished
    profile, nested per thread by start and end time."""
    events = [
        (e.start_thread_id(), e.start_ns(), -e.duration_ns(), e.name())
        for e in prof.profiler.kineto_results.events()
        if e.device_type() == DeviceType.CPU
    ]
    events.sort()  # per thread by start; an enclosing event (longer) first
    out: list[list] = []
    stacks: dict[int, list] = {}
    for tid, start, neg_dur, name in events:
        stack = stacks.setdefault(tid, [])
        while stack and stack[-1][0] <= start:  # ended before this one started
            stack.pop()
        parent = stack[-1] if stack else None
        layer = _layer_group(name) or (parent[3] if parent else None)
        row = [name, -neg_dur, _own_group(name) or layer or "other"]
        out.append(row)
        if parent:
            parent[1][1] += neg_dur  # the parent's self time loses this one
        stack.append((start - neg_dur, row, name, layer))
    return [(name, ns / 1e3, group) for name, ns, group in out]


def profile_ops(work: Callable[[], object], n_archs: int = 1, top: int = 15) -> dict:
    """Self CPU time of one call of ``work``, per operator and per group.

    Args:
        work: the scoring to profile (e.g. ``lambda: scorer.score_many(archs)``).
        n_archs: architectures ``work`` scores (times are reported per arch).
        top: operators listed.

    Returns:
        ``{"ms_per_arch" (all self time), "n_archs", "top": [{"op", "ms_per_arch",
        "share", "calls_per_arch", "group"}], "groups": {group: {"ms_per_arch",
        "share"}}}``, shares of the total self CPU time; an op's ``group`` is the
        one most of its time went to.
    """
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        work()
    by_op: dict[str, float] = collections.Counter()
    calls: dict[str, int] = collections.Counter()
    by_group: dict[str, float] = collections.Counter()
    op_groups: dict[str, collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    for name, us, group in self_times(prof):
        by_op[name] += us
        calls[name] += 1
        by_group[group] += us
        op_groups[name][group] += us
    total = sum(by_op.values()) or 1.0
    per = 1e-3 / max(1, n_archs)  # us -> ms per arch
    ranked = sorted(by_op.items(), key=lambda kv: -kv[1])[:top]
    return {
        "ms_per_arch": total * per,
        "n_archs": n_archs,
        "top": [
            {
                "op": name,
                "ms_per_arch": us * per,
                "share": us / total,
                "calls_per_arch": calls[name] / max(1, n_archs),
                "group": op_groups[name].most_common(1)[0][0],
            }
            for name, us in ranked
        ],
        "groups": {
            g: {"ms_per_arch": by_group[g] * per, "share": by_group[g] / total}
            for g in GROUPS
        },
    }
