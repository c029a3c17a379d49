"""The bulk scorer: determinism, order independence, resume after a kill, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from zclib import chunks, fileio, scoring, space

ARCHS = space.sample(5, seed=11)
KW = dict(
    dataset="ImageNet16-120",
    proxies="snip,synflow,naswot,zico,params",
    batch_size=8,
    seed=3,
    progress=False,
)


def test_scores_do_not_depend_on_order_or_chunking(tiny_imagenet16):
    a = scoring.score_archs(ARCHS, chunk_size=2, **KW).set_index("arch_str")
    b = scoring.score_archs(ARCHS[::-1], chunk_size=5, **KW).set_index("arch_str")
    cols = ["snip", "synflow", "naswot", "zico", "params"]
    pd.testing.assert_frame_equal(a.loc[ARCHS, cols], b.loc[ARCHS, cols])
    assert list(a.index) == ARCHS  # rows come back in the order given
    assert (a["index"] == [space.benchmark_index(x) for x in ARCHS]).all()
    for col in (
        "seed",
        "batch_size",
        "dataset",
        "variant",
        "data_source",
        "stand_in_name",
        "zclib_version",
        "git_commit",
    ):
        assert col in a.columns


def test_resume_after_a_kill_loses_at_most_the_chunk_in_flight(
    tiny_imagenet16, monkeypatch
):
    out = tiny_imagenet16 / "run" / "s.parquet"
    full = scoring.score_archs(ARCHS, chunk_size=2, **KW)

    calls = {"n": 0}
    real = scoring.Scorer.score

    def dying(self, arch):
        calls["n"] += 1
        if calls["n"] == 4:  # killed while scoring chunk 1 (archs 2-3)
            raise KeyboardInterrupt
        return real(self, arch)

    monkeypatch.setattr(scoring.Scorer, "score", dying)
    with pytest.raises(KeyboardInterrupt):
        scoring.score_archs(ARCHS, out=out, chunk_size=2, **KW)
    parts = sorted(
        p.name for p in out.with_name("s.parquet.parts").glob("part-*.parquet")
    )
    assert parts == ["part-00000.parquet"] and not out.exists()

    seen = []
    monkeypatch.setattr(
        scoring.Scorer, "score", lambda self, a: seen.append(a) or real(self, a)
    )
    resumed = scoring.score_archs(ARCHS, out=out, chunk_size=2, **KW)
    assert seen == ARCHS[2:]  # chunk 0 was not recomputed
    cols = ["arch_str", "snip", "synflow", "naswot", "zico", "params"]
    pd.testing.assert_frame_equal(resumed[cols], full[cols])
    on_disk = fileio.read_parquet(out)
    pd.testing.assert_frame_equal(on_disk[cols], full[cols])
    assert out.with_name("s.parquet.meta.json").exists()


def test_a_different_run_is_refused_in_the_same_folder(tiny_imagenet16):
    out = tiny_imagenet16 / "run2" / "s.csv"
    scoring.score_archs(ARCHS[:2], out=out, chunk_size=2, **KW)
    with pytest.raises(ValueError, match="different run"):
        scoring.score_archs(ARCHS[:2], out=out, chunk_size=2, **{**KW, "seed": 4})


def test_augment_is_part_of_the_run_and_of_the_table(tiny_imagenet16):
    out = tiny_imagenet16 / "run3" / "s.csv"
    df = scoring.score_archs(ARCHS[:2], out=out, chunk_size=2, **KW)
    assert not df["augment"].any()
    with pytest.raises(ValueError, match="different run.*augment"):
        scoring.score_archs(ARCHS[:2], out=out, chunk_size=2, **KW, augment=True)
    aug = scoring.score_archs(ARCHS[:2], chunk_size=2, **KW, augment=True)
    assert aug["augment"].all() and aug.attrs["meta"]["augment"] is True
    assert not np.allclose(aug["snip"], df["snip"])  # other images, other scores


def test_parts_of_a_run_from_before_augment_was_recorded_still_resume(
    tiny_imagenet16, monkeypatch
):
    out = tiny_imagenet16 / "run4" / "s.csv"
    scoring.score_archs(ARCHS[:2], out=out, chunk_size=1, **KW)
    run = out.with_name("s.csv.parts") / "run.json"
    ident = json.loads(run.read_text())
    del ident["augment"]
    run.write_text(json.dumps(ident))
    out.unlink()
    monkeypatch.setattr(scoring.Scorer, "score", lambda self, a: 1 / 0)  # no rescoring
    again = scoring.score_archs(ARCHS[:2], out=out, chunk_size=1, **KW)
    assert list(again["arch_str"]) == ARCHS[:2]


# the identity a run.json records, as the scorer has written it since before the
# chunk format was versioned: a long job resumes such folders (zclib.chunks)
RUN_JSON_KEYS = {
    "dataset",
    "proxies",
    "seed",
    "batch_seed",
    "batch_size",
    "variant",
    "mode",
    "n_batches",
    "norm",
    "augment",
    "data_format",
    "stand_in",
    "stand_in_name",
    "tf32",
    "chunk_size",
    "archs_sha1",
}


def test_parts_written_before_the_format_was_versioned_still_resume(
    tiny_imagenet16, monkeypatch
):
    out = tiny_imagenet16 / "run5" / "s.parquet"
    first = scoring.score_archs(ARCHS[:3], out=out, chunk_size=2, **KW)
    run = out.with_name("s.parquet.parts") / "run.json"
    ident = json.loads(run.read_text())
    assert ident.pop("chunks_format") == chunks.FORMAT_VERSION == 1
    assert set(ident) == RUN_JSON_KEYS
    run.write_text(json.dumps(ident, indent=2))  # as the unversioned code wrote it
    out.unlink()
    monkeypatch.setattr(scoring.Scorer, "score", lambda self, a: 1 / 0)  # no rescoring
    again = scoring.score_archs(ARCHS[:3], out=out, chunk_size=2, **KW)
    cols = ["arch_str", "snip", "synflow", "naswot", "zico", "params"]
    pd.testing.assert_frame_equal(again[cols], first[cols])
    assert json.loads(run.read_text()) == ident  # an old guard is left as it was


def test_a_newer_chunk_format_is_refused(tiny_imagenet16):
    out = tiny_imagenet16 / "run6" / "s.csv"
    scoring.score_archs(ARCHS[:1], out=out, chunk_size=1, **KW)
    run = out.with_name("s.csv.parts") / "run.json"
    run.write_text(json.dumps({**json.loads(run.read_text()), "chunks_format": 2}))
    with pytest.raises(ValueError, match="chunk format 2"):
        scoring.score_archs(ARCHS[:1], out=out, chunk_size=1, **KW)


@pytest.mark.parametrize("damage", ["truncate", "empty", "other archs"])
def test_a_damaged_part_is_named_and_recomputed(tiny_imagenet16, monkeypatch, damage):
    out = tiny_imagenet16 / "run7" / "s.parquet"
    full = scoring.score_archs(ARCHS, out=out, chunk_size=2, **KW)
    part = out.with_name("s.parquet.parts") / "part-00001.parquet"
    raw = part.read_bytes()  # a copy that broke off, or went to the wrong name
    part.write_bytes(
        raw[: len(raw) // 2]
        if damage == "truncate"
        else b""
        if damage == "empty"
        else part.with_name("part-00000.parquet").read_bytes()
    )
    out.unlink()
    seen = []
    real = scoring.Scorer.score
    monkeypatch.setattr(
        scoring.Scorer, "score", lambda self, a: seen.append(a) or real(self, a)
    )
    with pytest.warns(chunks.DamagedChunkWarning, match=str(part)):
        resumed = scoring.score_archs(ARCHS, out=out, chunk_size=2, **KW)
    assert seen == ARCHS[2:4]  # only the damaged chunk was scored again
    cols = ["arch_str", "snip", "synflow", "naswot", "zico", "params"]
    pd.testing.assert_frame_equal(resumed[cols], full[cols])
    pd.testing.assert_frame_equal(
        fileio.read_parquet(part)[cols], full[cols].iloc[2:4].reset_index(drop=True)
    )


def test_read_archs_reports_the_bad_line(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(f"# comment\n{ARCHS[0]}\n\n|bad~0|\n")
    with pytest.raises(ValueError, match="arch 2"):
        scoring.read_archs(f)


def test_cli_score_from_file(tiny_imagenet16):
    f = tiny_imagenet16 / "archs.txt"
    f.write_text("\n".join(ARCHS[:2]) + "\n")
    out = tiny_imagenet16 / "cli.csv"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "zclib",
            "score",
            "--dataset",
            "ImageNet16-120",
            "--proxies",
            "synflow,params",
            "--archs",
            str(f),
            "--batch-size",
            "8",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out)
    assert list(df["arch_str"]) == ARCHS[:2]
    assert {"synflow", "params", "index", "seed"} <= set(df.columns)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "zclib",
            "score",
            "--n",
            "2",
            "--proxies",
            "nope",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown proxy" in bad.stderr


@pytest.mark.slow
def test_workers_give_the_same_scores(tiny_imagenet16):
    # each of 2 workers runs 1 thread on 2 cores; the parent runs 1 thread too, since
    # CPU kernels round differently across thread counts and zico magnifies that
    # (1 vs 2 threads: ~2e-4 relative here, up to 6e-3 on real data, see docs/speed.md)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = scoring.score_archs(ARCHS, chunk_size=1, workers=1, **KW)
    finally:
        torch.set_num_threads(threads)
    two = scoring.score_archs(ARCHS, chunk_size=1, workers=2, **KW)
    cols = ["arch_str", "snip", "synflow", "naswot", "zico", "params"]
    pd.testing.assert_frame_equal(one[cols], two[cols], rtol=1e-12)


def test_a_pack_larger_than_a_chunk_packs_across_chunks(tiny_imagenet16, monkeypatch):
    out = tiny_imagenet16 / "run" / "s.parquet"
    calls = []
    real = scoring.Scorer.score_many
    monkeypatch.setattr(
        scoring.Scorer,
        "score_many",
        lambda self, archs: calls.append(len(archs)) or real(self, archs),
    )
    packed = scoring.score_archs(ARCHS[:4], out=out, chunk_size=1, pack=2, **KW)
    assert calls == [2, 2]  # two chunks of one cell per packed pass
    for k, arch in enumerate(ARCHS[:4]):  # and each chunk file holds its own cell
        part = chunks.read_part(
            chunks.part_path(chunks.parts_dir(out), f"part-{k:05d}")
        )
        assert list(part["arch_str"]) == [arch] and list(part["pack"]) == [2]
    one = scoring.score_archs(ARCHS[:4], chunk_size=1, pack=1, **KW)
    for p in ("snip", "synflow", "naswot", "params"):
        np.testing.assert_allclose(packed[p], one[p], rtol=1e-4)


def test_a_deadline_stops_between_chunks_and_the_same_call_resumes(
    tiny_imagenet16, monkeypatch
):
    import time

    out = tiny_imagenet16 / "run" / "s.parquet"
    real = scoring.Scorer.score_many

    def slow(self, archs):
        rows = real(self, archs)
        time.sleep(0.5)  # the deadline passes while the first chunk is scored
        return rows

    monkeypatch.setattr(scoring.Scorer, "score_many", slow)
    with pytest.raises(scoring.Unfinished) as caught:
        scoring.score_archs(
            ARCHS[:3], out=out, chunk_size=1, deadline=time.monotonic() + 0.2, **KW
        )
    assert (caught.value.done, caught.value.total, caught.value.scored) == (1, 3, 1)
    assert not out.exists()
    monkeypatch.setattr(scoring.Scorer, "score_many", real)
    df = scoring.score_archs(ARCHS[:3], out=out, chunk_size=1, **KW)
    assert df.attrs["meta"]["n_scored_this_run"] == 2 and out.exists()
    with pytest.raises(ValueError, match="deadline and first need out"):
        scoring.score_archs(ARCHS[:1], deadline=time.monotonic(), **KW)


def test_first_scores_a_prefix_of_the_run_and_the_rest_resumes(tiny_imagenet16):
    out = tiny_imagenet16 / "run" / "s.parquet"
    with pytest.raises(scoring.Unfinished) as caught:
        scoring.score_archs(ARCHS[:4], out=out, chunk_size=1, first=2, **KW)
    assert (caught.value.done, caught.value.total, caught.value.scored) == (2, 4, 2)
    prefix = chunks.read_parts(chunks.parts_dir(out))
    assert sorted(a for df in prefix.values() for a in df["arch_str"]) == sorted(
        ARCHS[:2]
    )
    df = scoring.score_archs(ARCHS[:4], out=out, chunk_size=1, **KW)
    assert df.attrs["meta"]["n_scored_this_run"] == 2 == df.attrs["n_scored"]
    meta_file = out.with_name(out.name + ".meta.json")
    written = (out.read_bytes(), meta_file.read_bytes())
    again = scoring.score_archs(ARCHS[:4], out=out, chunk_size=1, **KW)
    # a finished run that scores nothing leaves its table and provenance alone
    assert (out.read_bytes(), meta_file.read_bytes()) == written
    assert again.attrs["n_scored"] == 0 and again.attrs["meta"] == df.attrs["meta"]
    pd.testing.assert_frame_equal(again, df)
    whole = scoring.score_archs(ARCHS[:4], chunk_size=1, **KW)
    cols = ["arch_str", "snip", "synflow", "naswot", "zico", "params"]
    pd.testing.assert_frame_equal(df[cols], whole[cols])
    with pytest.raises(ValueError, match="deadline and first need out"):
        scoring.score_archs(ARCHS[:1], first=1, **KW)


def test_naive_mode_does_not_take_the_device_pack(tiny_imagenet16, monkeypatch):
    """Regression: with pack=None a naive scorer took default_pack (> 1 on a GPU)
    and then refused it ("packing needs --mode fused"); it scores 1 per pass."""
    from zclib.scoring import scorer as scorer_module

    monkeypatch.setattr(scorer_module, "default_pack", lambda s: 4)  # as on a GPU
    naive = scoring.Scorer("ImageNet16-120", ["snip"], batch_size=4, mode="naive")
    fused = scoring.Scorer("ImageNet16-120", ["snip"], batch_size=4)
    assert (naive.pack, fused.pack) == (1, 4)
