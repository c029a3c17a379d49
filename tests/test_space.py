import random

import pandas as pd
import pytest

from zclib import space

GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


def test_parse_format_roundtrip():
    cell = space.parse(GOOD)
    assert cell == (3, 3, 4, 1, 3, 1)
    assert space.format_arch(cell) == GOOD
    assert space.validate(GOOD) == GOOD


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "3"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "conv"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "none~1"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "none~0"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "none0"),
        (42, "str"),
    ],
)
def test_malformed_raises_naming_the_part(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        space.parse(bad)


def test_all_cells_unique_and_complete():
    cells = space.all_cells()
    assert len(cells) == len(set(cells)) == space.NUM_ARCHS == 15625
    strings = {space.format_arch(c) for c in cells}
    assert len(strings) == 15625


def test_neighbours_are_24_one_edge_mutations():
    cell = space.parse(GOOD)
    nb = space.neighbours(cell)
    assert len(nb) == len(set(nb)) == 24
    for n in nb:
        assert sum(a != b for a, b in zip(n, cell, strict=True)) == 1
    m = space.mutate(GOOD, random.Random(0))
    assert m in nb


def test_sample_seeded_nested_and_whole():
    assert space.sample(5, seed=1) == space.sample(5, seed=1)
    assert space.sample(5, seed=1) != space.sample(5, seed=2)
    assert space.sample(5, seed=1) == space.sample(50, seed=1)[:5]
    assert space.sample(None, seed=1) == space.permutation(1)
    assert len(set(space.sample(20_000, seed=1))) == space.NUM_ARCHS


def test_arch_seed_depends_only_on_seed_and_cell():
    c = space.parse(GOOD)
    assert space.arch_seed(0, c) == space.arch_seed(0, list(c))
    assert space.arch_seed(0, c) != space.arch_seed(1, c)
    assert space.arch_seed(0, c) != space.arch_seed(0, space.neighbours(c)[0])


def test_benchmark_index_inverts_benchmark_order():
    order = space.benchmark_order()
    for i in (0, 1, 7_777, space.NUM_ARCHS - 1):
        assert space.benchmark_index(order[i]) == i
        assert space.benchmark_index(space.parse(order[i])) == i


def test_benchmark_order_regenerates_every_index(shared_dir):
    """The seeded shuffle of the product enumeration equals the benchmark's order."""
    df = pd.read_csv(shared_dir / "data/nats-bench/nats_tss_test_acc_200ep.csv")
    assert space.benchmark_order() == list(df["ArchitectureString"])
