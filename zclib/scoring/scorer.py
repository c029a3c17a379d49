"""One architecture at a time: the scorer of a fixed configuration, and the device.

from zclib.scoring import Scorer
row = Scorer("cifar10", "synflow,snip", seed=0).score(arch)  # {'synflow': ..., ...}
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence

import torch

from zclib import data, space
from zclib import proxies as zproxies
from zclib.data import predrawn
from zclib.names import canonical_dataset
from zclib.network import build
from zclib.proxies.packed import per_cell_proxies


class Scorer:
    """Scores single architectures with a fixed configuration (one per process).

    Args:
        dataset: dataset name or alias.
        proxies: names or ``"all"`` (see :func:`zclib.proxies.resolve`).
        seed: weight-init seed, and the data seed unless ``batch_seed`` is given.
        batch_seed: the seed of the minibatches (None: ``seed``), to vary the batch
            draw at a fixed initialisation (the seed spread of
            :mod:`zclib.exhibits.score_spread`).
        batch_size: images per minibatch.
        device: ``"cpu"`` or ``"cuda"``.
        variant: network variant (``"official"`` or ``"foresight"``).
        mode: ``"fused"`` (shared passes) or ``"naive"`` (one fresh copy per proxy).
        zico_batches: minibatches zico uses (>= 2).
        norm: normalisation constants (see ``zclib.data.NORMS``).
        augment: draw the batches through the reference's training transforms
            (see ``zclib.data.get_batch``).
        stand_in: which ImageNet16-120 images (``zclib.data.find_source``; None:
            discovery's choice), e.g. those an existing table was made from.
        pack: networks per pass (:func:`zclib.proxies.compute_packed`) in
            :meth:`score_many`; 1 scores one network per pass; None chooses per
            device (:func:`default_pack`) in fused mode, 1 in naive mode.
            Packing does not change the scores beyond float32 rounding (stated
            per proxy in
            ``zclib.proxies.packed.FLOAT32_RTOL``), so it is not part of
            :meth:`config`; each row records its ``pack``.
        batch_file: read the batches from a file of :mod:`zclib.data.predrawn`
            instead of drawing them (for a machine without the images); it must
            hold the batches these settings draw (checked), and the scorer's
            :meth:`config` is then the same as if it had drawn them.
            :attr:`batch_record` says which way they came, with their SHA-1.
    """

    def __init__(
        self,
        dataset="cifar10",
        proxies="all",
        seed=0,
        batch_size=64,
        device="cpu",
        variant="official",
        mode="fused",
        zico_batches=2,
        norm="foresight",
        augment=False,
        stand_in=None,
        pack=None,
        batch_file=None,
        batch_seed=None,
    ):
        check_device(device)
        self.dataset = canonical_dataset(dataset)
        self.proxies = zproxies.resolve(proxies)
        self.seed, self.batch_size = int(seed), int(batch_size)
        self.batch_seed = self.seed if batch_seed is None else int(batch_seed)
        self.device, self.variant, self.mode = device, variant, mode
        if device.startswith("cuda"):
            # full fp32 on GPUs: TF32 convolutions (PyTorch's cuDNN default) move
            # grad_norm/snip/zico by ~1-3% and grasp far more (see verify.py)
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        if zico_batches < 2:
            raise ValueError("zico needs at least 2 batches (--zico-batches >= 2)")
        n_batches = max(zproxies.get(p).n_batches for p in self.proxies)
        n_batches = max(n_batches, zico_batches if "zico" in self.proxies else 1)
        if batch_file is None:
            drawn = data.get_batches(
                self.dataset,
                batch_size,
                self.batch_seed,
                n_batches,
                norm=norm,
                augment=augment,
                stand_in=stand_in,
            )
        else:
            drawn, _record = predrawn.load(batch_file)
            if len(drawn) < n_batches:
                raise ValueError(
                    f"{batch_file} holds {len(drawn)} batches; these proxies need "
                    f"{n_batches}"
                )
            drawn = drawn[:n_batches]
            predrawn.check(
                drawn,
                self.dataset,
                self.batch_seed,
                batch_size,
                norm,
                augment,
                stand_in,
            )
        # which batches were used: drawn here or read from a file, and their bytes
        self.batch_record = {
            "predrawn": batch_file is not None,
            "batch_file": "" if batch_file is None else os.path.basename(batch_file),
            "batches_sha1": predrawn.arrays_sha1(drawn),
        }
        self.batches = [(b.x.to(device), b.y.to(device)) for b in drawn]
        self.data_meta = drawn[0].meta
        self.norm, self.augment = norm, bool(augment)
        if pack is None:  # only a fused pass packs (naive: one copy per proxy)
            pack = default_pack(self) if mode == "fused" else 1
        self.pack = int(pack)
        if self.pack < 1:
            raise ValueError(f"--pack must be >= 1, got {self.pack}")
        if self.pack > 1 and mode != "fused":
            raise ValueError("packing (--pack > 1) needs --mode fused")
        specs = [zproxies.get(p) for p in self.proxies]
        # proxies a packed pass cannot serve: they run per cell (the scorer says so)
        self.per_cell_proxies = per_cell_proxies(specs) if self.pack > 1 else []

    def config(self) -> dict:
        """Everything that determines the scores (used to name and guard the cache)."""
        m = self.data_meta
        return {
            "dataset": self.dataset,
            "proxies": self.proxies,
            "seed": self.seed,
            "batch_seed": self.batch_seed,
            "batch_size": self.batch_size,
            "variant": self.variant,
            "mode": self.mode,
            "n_batches": len(self.batches),
            "norm": self.norm,
            "augment": self.augment,
            "data_source": str(m.get("source", "")),
            "data_format": m.get("format", ""),
            "stand_in": bool(m.get("stand_in", False)),
            "stand_in_name": m.get("stand_in_name", ""),
            "tf32": False,
        }

    def score(self, arch: str | Sequence[int]) -> dict:
        """One row: arch_str, index, one column per proxy, seconds."""
        cell = space.as_cell(arch)
        arch_str = space.format_arch(cell)
        t0 = time.perf_counter()
        net = build(cell, self.dataset, variant=self.variant, seed=self.seed)
        net = net.to(self.device)
        scores = zproxies.compute(
            net,
            self.proxies,
            self.batches,
            mode=self.mode,
            context={"arch": arch_str, "dataset": self.dataset},
            copy_net=False,
        )  # the network is ours alone
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        return {
            "arch_str": arch_str,
            "index": space.benchmark_index(arch_str),
            **scores,
            "seconds": time.perf_counter() - t0,
            "device": self.device,
            "pack": 1,
        }

    def score_many(self, archs: Sequence[str | Sequence[int]]) -> list[dict]:
        """Rows for several architectures, :attr:`pack` networks per pass (the
        ``seconds`` of a packed row is its pass's wall time / networks packed)."""
        if self.pack == 1:
            return [self.score(a) for a in archs]
        rows: list[dict] = []
        for i in range(0, len(archs), self.pack):
            rows += self._score_packed(archs[i : i + self.pack])
        return rows

    def _score_packed(self, archs: Sequence) -> list[dict]:
        cells = [space.as_cell(a) for a in archs]
        arch_strs = [space.format_arch(c) for c in cells]
        t0 = time.perf_counter()
        nets = [
            build(c, self.dataset, variant=self.variant, seed=self.seed).to(self.device)
            for c in cells
        ]
        scores = zproxies.compute_packed(
            nets,
            self.proxies,
            self.batches,
            [{"arch": a, "dataset": self.dataset} for a in arch_strs],
        )
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - t0) / len(cells)
        return [
            {
                "arch_str": a,
                "index": space.benchmark_index(a),
                **row,
                "seconds": seconds,
                "device": self.device,
                "pack": len(cells),
            }
            for a, row in zip(arch_strs, scores, strict=True)
        ]


# The most networks one pass packs when the pack size is chosen automatically.
MAX_PACK = 128
# The cell whose pass needs the most memory (every edge a 3x3 convolution).
_HEAVIEST = (space.OPS.index("nor_conv_3x3"),) * 6


def default_pack(scorer: Scorer, probe: int = 4, share: float = 0.5) -> int:
    """The pack size :class:`Scorer` uses when none is given.

    CPU: 1. Packing removes per-operation overhead, which on a CPU is small next to
    the arithmetic, and makes every tensor K times larger, so the working set
    leaves the caches and the gathers and scatters of the packed edges cost more
    than the overhead saved (measured by ``make bench``: results/bench/).
    CUDA: as many networks as fit in ``share`` of the free device memory, measured
    by one packed pass of ``probe`` copies of the heaviest cell (at most
    :data:`MAX_PACK`).
    """
    if not scorer.device.startswith("cuda"):
        return 1
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    free, _total = torch.cuda.mem_get_info()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    nets = [
        build(_HEAVIEST, scorer.dataset, variant=scorer.variant, seed=scorer.seed).to(
            scorer.device
        )
        for _ in range(probe)
    ]
    zproxies.compute_packed(nets, scorer.proxies, scorer.batches)
    per_net = max(1, (torch.cuda.max_memory_allocated() - base) // probe)
    del nets
    torch.cuda.empty_cache()
    return int(max(1, min(MAX_PACK, share * free // per_net)))


def check_device(device: str) -> str:
    """``device`` when this machine has it, else a one-line ValueError.

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns:
        ``device`` unchanged.
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"unknown device {device!r} ({exc}); use cpu or cuda"
        ) from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: expected cpu or cuda")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r}: CUDA is not available on this "
                "machine (torch.cuda.is_available() is False); use "
                "--device cpu"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r}: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    return device


def device_name(device: str) -> str:
    """The GPU's name for a cuda device, else the processor and the core count."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"
