r"""Reduced-training (EcoNAS-style) proxies: train NB201 cell networks for real.

    python -m zclib train --setting r8c4e20 --arch \
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    python -m zclib train --n 20 --seed 0 --setting r8c4e20 --setting r16c8e15 \
        --threads 1 --out results/train/econas_cifar10.parquet

    python -m zclib train --n 64 --pack 16 --eval-epochs 5,10,20   # econas-r8c4e40
    python -m zclib train-job --hours 6      # issue 17's job (zclib.train.job)

    from zclib import train
    s = train.Setting.parse("econas-r8c4e40")  # the reference recipe (default)
    rows = train.train_packed(archs, s, seed=0)  # K cells at once, one row each
    s = train.Setting.parse("r8c4e20")      # the earlier recipe: r8, C=4, 20 epochs
    row = train.train_arch(arch, s, seed=0)  # {'test_acc': ..., 'seconds': ...}
    df = train.sweep(archs, [s], seeds=[0], out="results/train/econas_cifar10.parquet")

Two recipes (:mod:`~zclib.train.setting`). ``econas-...`` settings follow the
reference script (SamsungLabs ``nasbench2_train.py``: batch 2048, the full training
set, crop at 32 then antialiased resize, foresight's network and normalisation, a
batch order shared by every cell; every detail in
:data:`~zclib.train.setting.REFERENCE_RECIPE`) and can be packed
(:mod:`~zclib.train.packed`). Settings without the prefix are the earlier recipe,
described next; their names and cache keys are unchanged.

A *setting* of the earlier recipe reduces NAS-Bench-201's training recipe along
EcoNAS's axes: input resolution (the 32x32 CIFAR images are area-downsampled once,
by average pooling over s x s blocks, s = 32 / resolution, before normalisation),
channels ``C`` of the first stage (stages have C, 2C, 4C), epochs, and the fraction
of the 50,000 training images (a seeded subset, the same for every architecture).
What stays NB201's: SGD momentum 0.9 with Nesterov, lr 0.1 annealed by cosine to 0
(stepped once per epoch, T_max = epochs, as the EcoNAS reference script does),
weight decay 5e-4 on every parameter, batch 256, random crop (zero padding 4 pixels
at 32x32, scaled with the resolution: 1 at 8x8, 2 at 16x16) and horizontal flip,
cross-entropy without label smoothing, N = 5 cells per stage. Accuracy is top-1 on
the 10,000 test images at the same reduced resolution (BN in eval mode).

Cost, per run: ``seconds`` of wall time (training + final test pass) and
``train_flops`` = forward FLOPs of one image at the setting's resolution (the
benchmark's convention: multiply-accumulates of convs and linears,
:func:`zclib.network.count_flops`) x 3 (forward + backward ~ 3 forwards) x images
seen (training samples x epochs). The test pass is not in ``train_flops``.

Determinism: the weights are drawn from a seed derived from (seed, cell) only
(:func:`zclib.space.arch_seed`), the batch order and the augmentation from a
``torch.Generator`` seeded by (seed, cell) (the earlier recipe) or by the seed alone
(``econas-``: the same batches for every cell, :func:`batch_generator`); on CPU
with a fixed thread count two runs give bit-identical weights.

Resumable: each finished run is one chunk of :mod:`zclib.chunks`,
``<out>.parts/<key>.parquet`` (temporary name, then an atomic rename), where ``key``
hashes the dataset, the architecture, the seed and *every* field of the setting; a
killed sweep loses only the runs in flight and the same command trains only what is
missing (a damaged part is named in a warning and trained again). :func:`merge`
folds the parts into ``<out>`` (the shipped table), which is itself read as a cache.

Modules: :mod:`~zclib.train.setting` (the recipes, the run key),
:mod:`~zclib.train.tensors` (data at a reduced resolution, augmentation),
:mod:`~zclib.train.loop` (one run; the epoch loop), :mod:`~zclib.train.packed` (K
runs at once), :mod:`~zclib.train.runs` (sweep, parts, merge),
:mod:`~zclib.train.job` (issue 17's job and tables), :mod:`~zclib.train.bench`
(packed vs one-at-a-time speed), :mod:`~zclib.train.costs` (budgets, zero-cost
timings), :mod:`~zclib.train.cli`.
"""

from __future__ import annotations

from zclib.network import count_flops, count_params  # re-exported (train.count_params)
from zclib.train import job  # issue 17's job (also reached through the CLI)
from zclib.train.cli import add_cli
from zclib.train.costs import budgets, time_zero_cost
from zclib.train.loop import (
    batch_generator,
    evaluate,
    fit,
    make_optimizer,
    subset,
    train_arch,
    train_step,
)
from zclib.train.packed import evaluate_packed, train_packed
from zclib.train.runs import TABLE, load_table, merge, parts_dir, sweep
from zclib.train.setting import (
    BASE_PAD,
    ECONAS,
    RECIPES,
    REFERENCE_RECIPE,
    TRAIN_VERSION,
    Setting,
    run_key,
)
from zclib.train.tensors import (
    augment,
    clear_cache,
    load_images,
    load_tensors,
    make_batch,
    pil_resize,
    split_tensors,
)

__all__ = [
    "BASE_PAD",
    "ECONAS",
    "RECIPES",
    "REFERENCE_RECIPE",
    "TABLE",
    "TRAIN_VERSION",
    "Setting",
    "add_cli",
    "augment",
    "batch_generator",
    "budgets",
    "clear_cache",
    "count_flops",
    "count_params",
    "evaluate",
    "evaluate_packed",
    "fit",
    "job",
    "load_images",
    "load_table",
    "load_tensors",
    "make_batch",
    "make_optimizer",
    "merge",
    "parts_dir",
    "pil_resize",
    "run_key",
    "split_tensors",
    "subset",
    "sweep",
    "time_zero_cost",
    "train_arch",
    "train_packed",
    "train_step",
]
