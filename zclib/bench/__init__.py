"""NATS-Bench topology space (= NAS-Bench-201): one tidy table per dataset.

    from zclib.bench import load_table
    df = load_table("cifar10")  # 15,625 rows; row i = benchmark index i

The only package that knows about ``nats_bench`` and the benchmark's file formats.
Sources, first found wins with ``source="auto"`` (data roots: :mod:`zclib.paths`):

1. ``"official"``: the ``NATS-tss-v1_0-3ffb9-simple`` folder from the NATS-Bench
   project, looked for as ``<root>/NATS-tss-v1_0-3ffb9-simple``,
   ``<root>/nats-bench/NATS-tss-v1_0-3ffb9-simple`` and
   ``$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple``. A folder with fewer than 15,625
   cell files (e.g. the 3-cell test sample) is skipped with a warning. It is
   converted once (~minutes, progress bar) into Parquet files under
   ``$ZCLIB_CACHE`` or ``data/cache/``, keyed by a fingerprint of the folder;
   later loads read the Parquet.
2. ``"csv"``: the compact exports ``nats-bench/nats_tss_test_acc_200ep.csv``,
   ``nats_tss_12ep_acc.csv`` and ``nats_tss_200ep_per_seed.csv``.

Sharp edges of the official API handled here: every query passes ``hp='200'``
(its default is the 12-epoch schedule) or an explicit ``hp='12'`` for the
12-epoch columns, and ``is_random=False`` (otherwise each call draws a random
seed); CIFAR-10 test accuracy comes from the ``cifar10`` run (trained on
train+valid), its validation accuracy from the ``cifar10-valid`` run (trained on
the train split), as in the exported CSVs.

Columns (accuracies in percent, means over the seeds the benchmark trained):

=====================  ======================================================
``index``              benchmark index (== row position)
``arch_str``           ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``
``unique_str``         isomorphism key (equal for equivalent cells)
``test_acc``           test accuracy after 200 epochs
``valid_acc``          validation accuracy after 200 epochs
``valid_acc_seeds``    number of seeds behind ``valid_acc`` (2 or 3)
``valtest_acc``        200 epochs, whole test set (valid+test halves);
                       cifar100/ImageNet16-120 only, NaN for cifar10
``test_acc_12ep``      test accuracy after the 12-epoch schedule
``valid_acc_12ep``     validation accuracy after the 12-epoch schedule
``params_M``           parameters, millions (the benchmark's "MB")
``flops_M``            FLOPs, millions; NaN for the CSV source
``train_time_200ep_s`` seconds to train 200 epochs (run behind ``valid_acc``)
``train_time_12ep_s``  12/200 of it
=====================  ======================================================

Modules: :mod:`.loader` (this API and its in-process cache), :mod:`.sources`
(which files, and the message when there are none), :mod:`.official` (the
``nats_bench`` files and their Parquet cache), :mod:`.csv_tables` (the CSVs),
:mod:`.schema` (columns and dtypes shared by both).
"""

from zclib.bench import csv_tables, loader, official, schema, sources
from zclib.bench.csv_tables import CSV_RELPATHS
from zclib.bench.loader import arch_strings, clear_cache, load_table, report
from zclib.bench.official import CACHE_ENV, OFFICIAL_NAME, OFFICIAL_RELPATHS
from zclib.bench.schema import COLUMNS

__all__ = [
    "CACHE_ENV",
    "COLUMNS",
    "CSV_RELPATHS",
    "OFFICIAL_NAME",
    "OFFICIAL_RELPATHS",
    "arch_strings",
    "clear_cache",
    "csv_tables",
    "load_table",
    "loader",
    "official",
    "report",
    "schema",
    "sources",
]
