"""Tests of the NATS-Bench adapter: CSV source, real official sample, mocked full API.

.venv/bin/pytest -q tests/test_bench.py
"""

import csv
import math
import re
from types import SimpleNamespace

import nats_bench
import numpy as np
import pandas as pd
import pytest

from zclib import bench, names, paths, space

SHARED = paths.PROJECT_ROOT.parent / "shared" / "data"
CSV_DIR = SHARED / "nats-bench"
SAMPLE = CSV_DIR / "official-sample" / bench.OFFICIAL_NAME
SAMPLE_INDICES = [0, 11, 284]  # the only cells with data in the sample
REFERENCE_COSTS = paths.PROJECT_ROOT.parent / "shared" / "reference" / "nb201_costs.csv"
N = space.NUM_ARCHS

needs_csv = pytest.mark.skipif(
    not (CSV_DIR / "nats_tss_test_acc_200ep.csv").is_file(),
    reason=f"offline NATS-Bench CSVs not found in {CSV_DIR}",
)
needs_sample = pytest.mark.skipif(
    not (SAMPLE / "meta.pickle.pbz2").is_file(),
    reason=f"official 3-cell NATS-Bench sample not found at {SAMPLE}",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Fresh in-process cache, Parquet cache in tmp, no $TORCH_HOME."""
    bench.clear_cache()
    monkeypatch.setenv(bench.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("TORCH_HOME", raising=False)
    yield
    bench.clear_cache()


@pytest.fixture(scope="module")
def csv_tables():
    if not CSV_DIR.is_dir():
        pytest.skip(f"offline NATS-Bench CSVs not found in {CSV_DIR}")
    return {ds: bench.load_table(ds, source=CSV_DIR) for ds in names.DATASETS}


# ----------------------------------------------------------------------------
# CSV source


@needs_csv
def test_csv_tables_shape_and_row_order(csv_tables):
    raw = pd.read_csv(CSV_DIR / "nats_tss_test_acc_200ep.csv")
    for ds, df in csv_tables.items():
        assert list(df.columns) == list(bench.COLUMNS)
        assert len(df) == N
        np.testing.assert_array_equal(df["index"], np.arange(N))
        assert (df["arch_str"] == raw["ArchitectureString"]).all()  # row i = index i
        assert (df["unique_str"] == raw["UniqueString"]).all()
        assert df["flops_M"].isna().all()  # not in the CSVs
        assert df.attrs["dataset"] == ds
        assert df.attrs["source"]["kind"] == "csv"
        for col in (
            "test_acc",
            "valid_acc",
            "test_acc_12ep",
            "valid_acc_12ep",
            "params_M",
            "train_time_200ep_s",
        ):
            assert df[col].notna().all(), (ds, col)
    test_col = {
        "cifar10": "CIFAR10TestAccuracy200Epochs",
        "cifar100": "CIFAR100TestAccuracy200Epochs",
        "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
    }
    for ds, col in test_col.items():
        np.testing.assert_array_equal(csv_tables[ds]["test_acc"], raw[col])


@needs_csv
def test_csv_spot_values_index0(csv_tables):
    row = csv_tables["cifar10"].iloc[0]
    assert row["index"] == 0
    assert row["test_acc"] == pytest.approx(85.86333333333334, abs=1e-9)
    assert row["params_M"] == pytest.approx(0.129306, abs=1e-9)
    assert row["arch_str"] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
        "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert math.isnan(row["valtest_acc"])  # cifar10 has no x-valid/x-test halves
    assert csv_tables["cifar100"].iloc[0]["params_M"] == pytest.approx(0.135156)


@needs_csv
@pytest.mark.parametrize("ds", names.DATASETS)
def test_csv_mean_over_seeds(csv_tables, ds):
    # Independently of pandas: average the per-seed rows of a few cells by hand.
    wanted = {0: [], 11: [], 15624: []}
    with open(CSV_DIR / "nats_tss_200ep_per_seed.csv") as f:
        for rec in csv.DictReader(f):
            i = int(rec["index"])
            if rec["dataset"] == ds and i in wanted:
                wanted[i].append(rec)
    df = csv_tables[ds]
    for i, recs in wanted.items():
        valid = [float(r["valid_acc_200ep"]) for r in recs]
        assert df.loc[i, "valid_acc"] == pytest.approx(
            sum(valid) / len(valid), abs=1e-9
        )
        assert df.loc[i, "valid_acc_seeds"] == len(recs)
        time_s = float(recs[0]["train_time_200ep_s"])
        assert df.loc[i, "train_time_200ep_s"] == pytest.approx(time_s)
        assert df.loc[i, "train_time_12ep_s"] == pytest.approx(time_s * 12 / 200)
    counts = df["valid_acc_seeds"].value_counts()
    assert set(counts.index) <= {2, 3}


@needs_csv
def test_csv_12ep_columns(csv_tables):
    raw = pd.read_csv(CSV_DIR / "nats_tss_12ep_acc.csv")
    for ds, df in csv_tables.items():
        np.testing.assert_allclose(df["test_acc_12ep"], raw[f"{ds}_test_12ep"])
        np.testing.assert_allclose(df["valid_acc_12ep"], raw[f"{ds}_valid_12ep"])
    assert csv_tables["cifar10"].loc[0, "test_acc_12ep"] == pytest.approx(69.55)


@needs_csv
def test_csv_keyword_source_and_in_process_cache(monkeypatch):
    monkeypatch.setattr(paths, "data_roots", lambda: [SHARED])
    df = bench.load_table("CIFAR-100", source="csv")
    assert df.attrs["dataset"] == "cifar100"
    df.loc[0, "test_acc"] = -1.0  # callers get a copy: the cache is unharmed
    again = bench.load_table("cifar100", source="csv")
    assert again.loc[0, "test_acc"] > 0
    assert bench.loader._load_table_cached.cache_info().hits == 1


@needs_csv
def test_arch_strings_and_report(monkeypatch):
    monkeypatch.setattr(paths, "data_roots", lambda: [SHARED])
    archs = bench.arch_strings()
    raw = pd.read_csv(CSV_DIR / "nats_tss_test_acc_200ep.csv")
    assert archs == raw["ArchitectureString"].tolist()
    found = bench.report()
    assert [r["kind"] for r in found] == ["csv"]
    assert found[0]["n_archs"] == N and found[0]["complete"]


@needs_csv
def test_mismatched_arch_strings_raise(tmp_path):
    for name in ("nats_tss_test_acc_200ep.csv", "nats_tss_200ep_per_seed.csv"):
        (tmp_path / name).symlink_to(CSV_DIR / name)
    ep12 = pd.read_csv(CSV_DIR / "nats_tss_12ep_acc.csv")
    ep12.loc[7, "arch_str"] = ep12.loc[8, "arch_str"]
    ep12.to_csv(tmp_path / "nats_tss_12ep_acc.csv", index=False)
    with pytest.raises(ValueError, match="arch strings disagree.*index 7"):
        bench.load_table("cifar10", source=tmp_path)


# ----------------------------------------------------------------------------
# Official source: the real files, 3 cells


@needs_sample
@needs_csv
@pytest.mark.parametrize("ds", names.DATASETS)
def test_official_sample_agrees_with_csv(csv_tables, ds):
    official = bench.official.official_rows(SAMPLE, ds, [284, 0, 11])
    assert list(official.columns) == list(bench.COLUMNS)
    assert official["index"].tolist() == SAMPLE_INDICES  # sorted
    expected = csv_tables[ds].loc[SAMPLE_INDICES].reset_index(drop=True)
    for col in ("arch_str", "unique_str", "valid_acc_seeds"):
        assert official[col].tolist() == expected[col].tolist(), col
    for col in (
        "test_acc",
        "valid_acc",
        "valtest_acc",
        "test_acc_12ep",
        "valid_acc_12ep",
        "params_M",
    ):
        np.testing.assert_allclose(official[col], expected[col], atol=1e-6, err_msg=col)
    np.testing.assert_allclose(
        official["train_time_200ep_s"], expected["train_time_200ep_s"], rtol=1e-6
    )
    assert official["flops_M"].gt(0).all()


@needs_sample
def test_official_sample_flops_match_reference():
    if not REFERENCE_COSTS.is_file():
        pytest.skip(f"{REFERENCE_COSTS} not found")
    ref = pd.read_csv(REFERENCE_COSTS).dropna(subset=["flops_M"])
    api = nats_bench.create(str(SAMPLE), "tss", fast_mode=True, verbose=False)
    for ds in names.DATASETS:
        got = bench.official.official_rows(api, ds, SAMPLE_INDICES)  # an API object
        merged = got.merge(ref[ref["dataset"] == ds], on="arch_str")
        assert len(merged) >= 1, ds
        np.testing.assert_allclose(merged["flops_M_x"], merged["flops_M_y"])
        np.testing.assert_allclose(merged["params_M_x"], merged["params_M_y"])


@needs_sample
def test_official_sample_costs_are_get_cost_info():
    api = nats_bench.create(str(SAMPLE), "tss", fast_mode=True, verbose=False)
    for ds in names.DATASETS:
        got = bench.official.official_rows(api, ds, SAMPLE_INDICES)
        for i, params, flops in zip(
            SAMPLE_INDICES, got["params_M"], got["flops_M"], strict=True
        ):
            cost = api.get_cost_info(i, ds, hp="200")
            assert (params, flops) == (cost["params"], cost["flops"])


@needs_sample
def test_official_sample_missing_cell_raises():
    with pytest.raises(LookupError, match="benchmark index 1"):
        bench.official.official_rows(SAMPLE, "cifar10", [1])


@needs_sample
@needs_csv
def test_incomplete_official_folder_is_skipped(monkeypatch):
    # The sample looks like an official folder but has data for 3 cells only.
    monkeypatch.setattr(paths, "data_roots", lambda: [SAMPLE.parent, SHARED])
    with pytest.warns(UserWarning, match=f"3 of {N} cells"):
        df = bench.load_table("cifar10")
    assert df.attrs["source"]["kind"] == "csv"
    assert "3 of" in df.attrs["notes"][0]
    with pytest.raises(FileNotFoundError, match=f"3 of {N} cells"):
        bench.load_table("cifar10", source="official")
    with pytest.raises(FileNotFoundError, match=f"3 of {N} cells"):
        bench.load_table("cifar10", source=SAMPLE)
    official = [r for r in bench.report() if r["kind"] == "official"]
    assert official[0]["n_archs"] == 3 and not official[0]["complete"]


# ----------------------------------------------------------------------------
# Official source: full conversion against a mock API


class FakeApi:
    """Stands in for the NATS-Bench topology API: 15,625 cells, numbers from i."""

    TEST = {
        "cifar10": 90.0,
        "cifar10-valid": 80.0,
        "cifar100": 70.0,
        "ImageNet16-120": 40.0,
    }

    def __init__(self):
        self.calls = 0

    def __len__(self):
        return N

    def arch(self, i):
        return f"|fake~{i}|"

    def get_unique_str(self, i):
        return f"u{i}"

    def get_more_info(self, i, dataset, iepoch=None, hp=None, is_random=True):
        # The sharp edges: hp must be explicit, and never a random seed.
        assert hp in ("200", "12"), f"hp must be passed explicitly, got {hp!r}"
        assert is_random is False, f"is_random must be False, got {is_random!r}"
        assert iepoch is None
        self.calls += 1
        acc = self.TEST[dataset] - i * 1e-4 - (20.0 if hp == "12" else 0.0)
        info = {"test-accuracy": acc, "train-all-time": 1000.0 + i}
        if dataset != "cifar10":  # the cifar10 run has no validation split
            info["valid-accuracy"] = acc - 1.0
        if dataset in ("cifar100", "ImageNet16-120"):
            info["valtest-accuracy"] = acc - 0.5
        return info

    @staticmethod
    def _costs(i):
        return {"params": np.float64(1e-3 * i), "flops": 2e-3 * i, "latency": 0.01}

    def get_cost_info(self, i, dataset, hp="12"):
        return self._costs(i)

    def query_meta_info_by_index(self, i, hp=None):
        assert hp == "200", f"hp must be '200', got {hp!r}"
        self.calls += 1
        seeds = [777, 888] if i % 2 else [777, 888, 999]
        return SimpleNamespace(
            get_dataset_seeds=lambda dataset: list(seeds),
            get_compute_costs=lambda dataset: self._costs(i),
        )


@pytest.fixture(scope="module")
def fake_official(tmp_path_factory):
    """A folder shaped like the official one: meta + 15,625 (empty) cell files."""
    root = tmp_path_factory.mktemp("official")
    folder = root / bench.OFFICIAL_NAME
    folder.mkdir()
    (folder / "meta.pickle.pbz2").write_bytes(b"not a real meta file")
    for i in range(N):
        (folder / f"{i:06d}.pickle.pbz2").touch()
    return root, folder


def test_official_conversion_with_mock_api(fake_official, monkeypatch, tmp_path):
    root, folder = fake_official
    api = FakeApi()

    def fake_create(path, space, fast_mode=False, verbose=True):
        assert (path, space, fast_mode, verbose) == (str(folder), "tss", True, False)
        return api

    monkeypatch.setattr(nats_bench, "create", fake_create)
    monkeypatch.setattr(paths, "data_roots", lambda: [root])
    df = bench.load_table("cifar10")
    assert df.attrs["source"]["kind"] == "official"
    assert df.attrs["source"]["paths"] == [str(folder)]
    assert len(df) == N and list(df.columns) == list(bench.COLUMNS)
    np.testing.assert_array_equal(df["index"], np.arange(N))
    i = 4321
    row = df.loc[i]
    assert row["arch_str"] == f"|fake~{i}|" and row["unique_str"] == f"u{i}"
    assert row["test_acc"] == pytest.approx(90.0 - i * 1e-4)  # the cifar10 run
    assert row["valid_acc"] == pytest.approx(80.0 - i * 1e-4 - 1)  # cifar10-valid
    assert row["valid_acc_seeds"] == 2
    assert math.isnan(row["valtest_acc"])
    assert row["test_acc_12ep"] == pytest.approx(70.0 - i * 1e-4)
    assert row["valid_acc_12ep"] == pytest.approx(60.0 - i * 1e-4 - 1)
    assert row["params_M"] == pytest.approx(1e-3 * i)
    assert row["flops_M"] == pytest.approx(2e-3 * i)
    assert row["train_time_12ep_s"] == pytest.approx((1000.0 + i) * 12 / 200)

    # One conversion wrote all three datasets, atomically (no temp files left).
    cache = tmp_path / "cache"
    written = sorted(p.name for p in cache.iterdir())
    fp = df.attrs["source"]["fingerprint"]
    assert written == sorted(f"nats_tss_{fp}_{ds}.parquet" for ds in names.DATASETS)

    # Later loads read the Parquet: the API must not be created again.
    def no_create(*args, **kwargs):
        raise AssertionError("the API was created although the cache exists")

    calls = api.calls
    assert calls > 0
    monkeypatch.setattr(nats_bench, "create", no_create)
    bench.clear_cache()
    again = bench.load_table("cifar10")
    pd.testing.assert_frame_equal(df, again)
    c100 = bench.load_table("cifar100")
    assert c100.loc[i, "valid_acc"] == pytest.approx(70.0 - i * 1e-4 - 1)
    assert c100.loc[i, "valtest_acc"] == pytest.approx(70.0 - i * 1e-4 - 0.5)
    assert c100.attrs["source"]["conversion"]["fingerprint"] == fp
    assert api.calls == calls


def test_torch_home_candidate(fake_official, monkeypatch, tmp_path):
    root, folder = fake_official
    monkeypatch.setattr(paths, "data_roots", lambda: [tmp_path / "empty"])
    monkeypatch.setenv("TORCH_HOME", str(root))
    src = bench.sources.resolve("auto")
    assert (src.kind, src.paths) == ("official", (folder,))


def test_fingerprint_tracks_cell_files(tmp_path):
    (tmp_path / "meta.pickle.pbz2").write_bytes(b"meta")
    (tmp_path / "000000.pickle.pbz2").write_bytes(b"a")
    before = bench.official.fingerprint(tmp_path)
    assert bench.official.fingerprint(tmp_path) == before
    (tmp_path / "000000.pickle.pbz2").write_bytes(b"ab")
    assert bench.official.fingerprint(tmp_path) != before


# ----------------------------------------------------------------------------
# Errors


def test_unknown_dataset_raises():
    with pytest.raises(ValueError, match="unknown dataset"):
        bench.load_table("mnist")
    with pytest.raises(ValueError, match="unknown dataset"):
        bench.official.official_rows(FakeApi(), "svhn", [0])


def test_no_source_names_every_place_searched(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(paths.ENV_VAR, str(empty))
    monkeypatch.setattr(paths, "data_roots", lambda: [empty, tmp_path / "no-data"])
    with pytest.raises(FileNotFoundError) as err:
        bench.load_table("cifar10")
    msg = str(err.value)
    places = paths.searched(*bench.OFFICIAL_RELPATHS, *bench.CSV_RELPATHS)
    assert len(places) == 10
    for place in places:
        assert place in msg
    assert bench.OFFICIAL_NAME in msg and "$ZCLIB_DATA" in msg and "$TORCH_HOME" in msg
    with pytest.raises(FileNotFoundError):
        bench.arch_strings()
    with pytest.raises(FileNotFoundError, match="no NATS-Bench"):
        bench.load_table("cifar10", source=empty)
    assert bench.report() == []


# ----------------------------------------------------------------------------
# Boundary


def test_only_the_official_module_imports_nats_bench():
    # DESIGN.md: only zclib.bench knows nats_bench; inside it, only .official.
    pkg = paths.PROJECT_ROOT / "zclib"
    importing = sorted(
        str(p.relative_to(pkg))
        for p in pkg.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+nats_bench\b", p.read_text(), re.M)
    )
    assert importing == ["bench/official.py"]


def test_package_exposes_the_public_names():
    public = {
        "load_table",
        "arch_strings",
        "report",
        "clear_cache",
        "COLUMNS",
        "OFFICIAL_NAME",
        "OFFICIAL_RELPATHS",
        "CSV_RELPATHS",
        "CACHE_ENV",
    }
    assert public <= set(bench.__all__)
    assert all(hasattr(bench, n) for n in public)
