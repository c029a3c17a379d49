"""Data discovery (zclib.paths), dataset names (zclib.names), provenance.

Each rule is written out by hand here: root order, alias table, error message.
"""

from __future__ import annotations

import os

import pytest

import zclib
from zclib import names, paths, provenance


def test_data_roots_env_first_then_project_then_shared(monkeypatch, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv(paths.ENV_VAR, f"{a}{os.pathsep}{os.pathsep}{b}")
    assert paths.data_roots() == [
        a,
        b,
        paths.PROJECT_ROOT / "data",
        paths.PROJECT_ROOT.parent / "shared" / "data",
    ]
    monkeypatch.delenv(paths.ENV_VAR)
    assert paths.data_roots()[0] == paths.DATA_DIR


def test_find_data_roots_win_over_relpath_order(monkeypatch, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "y").mkdir(parents=True)
    (second / "x").mkdir(parents=True)
    monkeypatch.setattr(paths, "data_roots", lambda: [first, second])
    assert paths.find_data("x", "y") == first / "y"  # first root, second relpath
    assert paths.find_data("x") == second / "x"
    assert paths.find_data("z") is None
    assert paths.searched("x", "z") == [
        str(first / "x"),
        str(first / "z"),
        str(second / "x"),
        str(second / "z"),
    ]


@pytest.mark.parametrize(
    "alias,canonical",
    [
        ("CIFAR-10", "cifar10"),
        (" cifar100 ", "cifar100"),
        ("ImageNet16-120", "ImageNet16-120"),
        ("imagenet", "ImageNet16-120"),
        ("IN16-120", "ImageNet16-120"),
    ],
)
def test_canonical_dataset_aliases(alias, canonical):
    assert names.canonical_dataset(alias) == canonical


def test_unknown_dataset_message_lists_the_accepted_names():
    with pytest.raises(ValueError) as err:
        names.canonical_dataset("mnist")
    msg = str(err.value)
    assert msg.startswith(
        "unknown dataset 'mnist'; expected one of cifar10, cifar100, "
        "ImageNet16-120 (aliases: "
    )
    assert all(a in msg for a in names.ALIASES)


def test_every_dataset_has_classes_and_is_its_own_alias():
    assert set(names.NUM_CLASSES) == set(names.DATASETS)
    assert set(names.ALIASES.values()) == set(names.DATASETS)
    assert all(names.canonical_dataset(ds) == ds for ds in names.DATASETS)


def test_provenance_records_version_commit_and_params():
    rec = provenance.provenance(seed=3)
    commit, dirty = provenance.git_commit()
    assert rec == {
        "zclib_version": zclib.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "seed": 3,
    }


def test_paths_holds_discovery_only():
    # The split is the point: names, provenance and file I/O live in their modules.
    public = {n for n in vars(paths) if not n.startswith("_") and n.isidentifier()}
    public -= {"annotations", "os", "Path"}
    assert public == {
        "PROJECT_ROOT",
        "DATA_DIR",
        "RESULTS_DIR",
        "ENV_VAR",
        "data_roots",
        "find_data",
        "searched",
    }


def test_provenance_records_portable_paths(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "mydata"))
    root = paths.PROJECT_ROOT
    got = provenance.provenance(
        table=str(root / "results" / "scores" / "x.parquet"),
        nested={"a": [str(root.parent / "shared" / "data" / "nats-bench")]},
        data=str(tmp_path / "mydata" / "cifar10" / "f.tar.gz"),
        elsewhere=str(tmp_path / "other"),
        note="not a path",
        n=3,
    )
    assert got["table"] == "results/scores/x.parquet"
    assert got["nested"] == {"a": ["../shared/data/nats-bench"]}
    assert got["data"] == "$ZCLIB_DATA/cifar10/f.tar.gz"
    assert got["elsewhere"] == str(tmp_path / "other")  # not ours: as given
    assert got["note"] == "not a path" and got["n"] == 3
