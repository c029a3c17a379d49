"""The prepared GPU run's CPU path: pre-drawn batches, the bare-Python run, the
archives it returns, the merged tables."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_bare

from zclib import chunks, data, scoring
from zclib import proxies as zproxies
from zclib.data import predrawn
from zclib.fullspace import bundle, jobs, merge, run

DS = "ImageNet16-120"  # the tiny_imagenet16 fixture's official-format pickles
N, CHUNK = 2, 1  # the tiny size: 2 cells in 2 chunks
# what a device's bare Python lacks: the scoring path must not import them
ABSENT = ("tqdm", "PIL", "matplotlib", "seaborn", "nats_bench", "papermill", "nbformat")


@pytest.fixture
def batches(tiny_imagenet16):
    """The tiny dataset's pre-drawn batches (the job settings: seed 0, batch 64)."""
    folder = tiny_imagenet16 / "gpu"
    predrawn.save(folder, DS, jobs.N_BATCHES, seed=jobs.SEED, batch_size=64)
    return folder


def test_predrawn_batches_are_what_get_batch_draws(batches):
    got, record = predrawn.load(jobs.batch_file(DS, batches))
    for i, b in enumerate(got):
        want = data.get_batch(DS, 64, 0, index=i)
        assert torch.equal(b.x, want.x) and torch.equal(b.y, want.y)
        assert b.meta == want.meta
    assert record["sha1"] == predrawn.arrays_sha1(got)
    kw = dict(dataset=DS, proxies="all", batch_size=64)
    drawn = scoring.Scorer(**kw)
    read = scoring.Scorer(**kw, batch_file=jobs.batch_file(DS, batches))
    assert read.config() == drawn.config()  # so the run identity matches
    assert read.batch_record["predrawn"] and not drawn.batch_record["predrawn"]
    assert read.batch_record["batches_sha1"] == drawn.batch_record["batches_sha1"]


def test_predrawn_batches_of_other_settings_or_damaged_are_refused(batches):
    path = jobs.batch_file(DS, batches)
    with pytest.raises(ValueError, match="batch_size"):
        scoring.Scorer(DS, "snip", batch_size=32, batch_file=path)
    with pytest.raises(ValueError, match="stand-in|images"):
        scoring.Scorer(
            DS, "snip", batch_size=64, stand_in="mixed-classes", batch_file=path
        )
    with np.load(path) as z:
        arrays = dict(z)
    arrays["x0"] = arrays["x0"] + 1
    bad = batches / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="SHA-1"):
        predrawn.load(bad)


def test_the_plan_covers_every_registered_proxy():
    plan = jobs.plan([DS])
    assert plan[0].name == "all" and plan[0].variant == "official"
    columns = {c for j in plan for c in j.columns}
    assert set(zproxies.names()) <= columns  # a newly registered proxy is in
    assert len(columns) == sum(len(j.columns) for j in plan)  # each column once
    assert (("fisher",), "foresight") in {(j.proxies, j.variant) for j in plan}
    assert len({j.out() for j in jobs.plan()}) == len(jobs.plan())


def test_a_registered_variant_gets_a_job_of_its_own(monkeypatch):
    variant = zproxies.proxy("variant_x", in_all=False)(lambda p: 0.0)
    (spec,) = zproxies.register([variant]).values()
    monkeypatch.setitem(zproxies.REGISTRY, "variant_x", spec)
    last = jobs.plan([DS])[-1]
    assert (last.name, last.proxies, last.columns) == (
        "variant_x",
        ("variant_x",),
        ["variant_x"],
    )


def _run_bare(args: list[str], env_extra: dict | None = None):
    """``python -m zclib.fullspace ARGS`` where ABSENT cannot be imported."""
    return run_bare("zclib.fullspace", args, ABSENT, env_extra)


def test_tiny_run_without_tqdm_or_pil_then_unpack_and_merge(batches, tmp_path):
    device_root, out = tmp_path / "device" / "fp32", tmp_path / "OUT"
    # no images where it runs: only the pre-drawn batches
    r = _run_bare(
        [
            "run",
            "--device",
            "cpu",
            "--datasets",
            DS,
            "--n",
            str(N),
            "--chunk-size",
            str(CHUNK),
            "--root",
            str(device_root),
            "--batch-dir",
            str(batches),
            "--bundle",
            str(out),
        ],
        {"ZCLIB_DATA": str(tmp_path / "nothing")},
    )
    assert r.returncode == 0, r.stderr
    assert f"{DS}: " in r.stderr and "archs/s" in r.stderr
    archive = out / bundle.archive_name(DS)
    record = json.loads((out / "fullspace-run.json").read_text())
    assert record["finished"] and record["torch_version"] == torch.__version__
    _b, drawn = predrawn.load(jobs.batch_file(DS, batches))
    assert record["batches"][DS]["sha1"] == drawn["sha1"]
    assert {e["job"] for e in record["jobs"]} == {j.name for j in jobs.plan([DS])}

    # here: a chunk already present is kept, a damaged one replaced by the archive's
    here = tmp_path / "here" / "fp32"
    main_parts = chunks.parts_dir(jobs.plan([DS])[0].out(here))
    main_parts.mkdir(parents=True)
    with tarfile.open(archive) as tf:
        tf.extract(f"{main_parts.name}/run.json", here, filter="data")
        tf.extract(f"{main_parts.name}/part-00000.parquet", here, filter="data")
    (main_parts / "part-00001.parquet").write_bytes(b"truncated")
    kept = (main_parts / "part-00000.parquet").stat().st_mtime_ns
    counts = bundle.unpack([archive], here)
    assert counts[main_parts.name]["kept"] == 2  # run.json and part 0
    assert counts[main_parts.name]["added"] == N // CHUNK - 1  # the damaged part 1
    assert (main_parts / "part-00000.parquet").stat().st_mtime_ns == kept

    m = _run_bare(
        [
            "merge",
            "--datasets",
            DS,
            "--n",
            str(N),
            "--chunk-size",
            str(CHUNK),
            "--root",
            str(here),
            "--batch-dir",
            str(batches),
        ]
    )
    assert m.returncode == 0, m.stderr
    table = pd.read_parquet(here / f"nb201_{DS}.parquet")
    assert list(table["arch_str"]) == jobs.archs(N)
    columns = [c for j in jobs.plan([DS]) for c in j.columns]
    assert set(columns) <= set(table.columns)
    assert {"fisher_foresight", "zen"} <= set(columns)
    # the variant column is fisher on the other network: it differs from fisher
    assert not np.allclose(table["fisher_foresight"], table["fisher"])
    meta = json.loads((here / f"nb201_{DS}.parquet.meta.json").read_text())
    runs = meta["jobs"]["fisher_foresight"]["device_runs"]
    assert runs and runs[0]["torch_version"] == torch.__version__
    assert meta["jobs"]["all"]["rows_by_device"] == {"cpu": N}

    # the same table as scoring here directly (the device used pre-drawn batches)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the run's (and CPU rounding depends on threads)
    try:
        direct = scoring.score_archs(
            jobs.archs(N),
            DS,
            "fisher",
            batch_size=64,
            variant="foresight",
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(table["fisher_foresight"], direct["fisher"], rtol=1e-6)

    # a run started again on the merged tables finds nothing to do and leaves them
    before = (here / f"nb201_{DS}.parquet").read_bytes()
    again = _run_bare(
        ["run", "--device", "cpu", "--datasets", DS, "--n", str(N)]
        + ["--chunk-size", str(CHUNK), "--root", str(here)]
        + ["--batch-dir", str(batches)]
    )
    assert again.returncode == 0, again.stderr
    assert (here / f"nb201_{DS}.parquet").read_bytes() == before


def test_an_unfinished_run_says_so_and_merge_refuses(batches, tmp_path, capsys):
    root = tmp_path / "fp32"
    with pytest.raises(merge.Incomplete, match="2 of 2 chunks"):
        merge.merge(DS, root=root, batch_dir=batches, n_archs=N, chunk_size=CHUNK)
    record = run.run(
        [DS],
        device="cpu",
        root=root,
        batch_dir=batches,
        deadline_s=0,
        n_archs=N,
        chunk_size=CHUNK,
    )
    assert not record["finished"] and "UNFINISHED" in capsys.readouterr().err


def test_an_archive_of_another_run_is_refused(batches, tmp_path):
    root = tmp_path / "fp32"
    job = jobs.plan([DS])[0]
    chunks.open_parts(chunks.parts_dir(job.out(root)), {"dataset": DS, "seed": 1})
    src = tmp_path / "src"
    folder = chunks.parts_dir(job.out(src))
    chunks.open_parts(folder, {"dataset": DS, "seed": 0})
    (src / "evil.txt").write_text("x")
    archive = tmp_path / bundle.archive_name(DS)
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src / "evil.txt", arcname="../evil.txt")  # skipped, never written
        tf.add(folder / chunks.GUARD, arcname=f"{folder.name}/{chunks.GUARD}")
    with (
        pytest.warns(UserWarning, match="skipped"),
        pytest.raises(ValueError, match="another run"),
    ):
        bundle.unpack([archive], root)
    assert not (tmp_path / "evil.txt").exists()


def test_progress_lines_without_a_bar(capsys):
    from zclib import progress

    with progress.bar(10, initial=2, desc="score x", unit="arch", style="lines") as b:
        b.every = 0.0  # a line at every update
        b.update(3)
        b.every = 1e9
        b.update(5)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("score x: 5/10 arch")
    assert lines[1].startswith("score x: 10/10 arch")


def test_first_scores_every_jobs_prefix_then_the_rest_resumes(batches, tmp_path):
    root = tmp_path / "fp32"
    kw = dict(device="cpu", root=root, batch_dir=batches, n_archs=N, chunk_size=CHUNK)
    record = run.run([DS], **kw, first=1)  # every job: its first chunk, none stops
    assert not record["finished"]
    assert [e["chunks_done"] for e in record["jobs"]] == [1] * len(jobs.plan([DS]))
    record = run.run([DS], **kw)
    assert record["finished"]
    assert {e["scored"] for e in record["jobs"]} == {N - 1}  # only the rest
