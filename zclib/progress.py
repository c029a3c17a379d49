"""The scoring path's progress report: a tqdm bar, or a line on stderr now and then.

    from zclib.progress import bar
    with bar(total=100, desc="score cifar10", unit="arch") as b:
        b.update(25)

tqdm is not a dependency of the scoring path: a device machine's bare Python may
lack it, and a log (a run whose output is captured) is better served by a line
every so often than by a redrawn bar. :func:`bar` returns tqdm's bar when tqdm is
installed and ``style="bar"``, else :class:`Lines`. The long jobs that never run
where tqdm is missing (training, the speed benchmark, the benchmark adapter) use
tqdm directly.
"""

from __future__ import annotations

import sys
import time

STYLES = ("bar", "lines")


class Lines:
    """A progress report of one stderr line every ``every`` seconds, and at close.

    Args:
        total: units expected.
        initial: units already done (not counted in the rate).
        desc: what is counted, at the start of each line.
        unit: name of one unit.
        disable: report nothing.
        every: seconds between lines.
    """

    def __init__(self, total, initial=0, desc="", unit="it", disable=False, every=30.0):
        self.total, self.n, self.desc, self.unit = total, initial, desc, unit
        self.disable, self.every = disable, every
        self._start_n = self._printed_n = initial
        self._t0 = self._last = time.monotonic()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units; print a line when ``every`` seconds have passed."""
        self.n += n
        if time.monotonic() - self._last >= self.every:
            self._print()

    def close(self) -> None:
        """Print the last line (unless it is printed already)."""
        if self.n != self._printed_n:
            self._print()

    def _print(self) -> None:
        self._last = now = time.monotonic()
        self._printed_n = self.n
        if self.disable:
            return
        rate = (self.n - self._start_n) / max(now - self._t0, 1e-9)
        left = (self.total - self.n) / rate if rate > 0 else float("nan")
        print(
            f"{self.desc}: {self.n}/{self.total} {self.unit} "
            f"({rate:.2f} {self.unit}/s, {now - self._t0:.0f} s, about {left:.0f} s "
            "left)",
            file=sys.stderr,
            flush=True,
        )

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bar(
    total: int,
    initial: int = 0,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    style: str = "bar",
    leave: bool = True,
):
    """A progress report on stderr with ``update(n)`` and ``close()``.

    Args:
        total: units expected.
        initial: units already done.
        desc: label.
        unit: name of one unit.
        enabled: False reports nothing.
        style: ``"bar"`` (tqdm, or :class:`Lines` when tqdm is not installed) or
            ``"lines"`` (always :class:`Lines`).
        leave: keep tqdm's bar on screen when done.

    Returns:
        A ``tqdm.auto.tqdm`` bar or a :class:`Lines`.
    """
    if style not in STYLES:
        raise ValueError(f"progress style {style!r}: expected one of {STYLES}")
    if style == "bar":
        try:
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            return tqdm(
                total=total,
                initial=initial,
                disable=not enabled,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                dynamic_ncols=True,
                leave=leave,
            )
    return Lines(total, initial, desc, unit, disable=not enabled)
