"""Shared fixtures: where the offline data lives, and skips when it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from zclib.paths import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir():
    """../shared beside the checkout (offline data and published references)."""
    if not SHARED.exists():
        pytest.skip("../shared (offline data and references) is not present")
    return SHARED


def run_bare(module: str, args, absent=(), env_extra=None):
    """``python -m MODULE ARGS`` from the working tree in a Python where the top-level
    packages ``absent`` cannot be imported (as on a device machine, whose image lacks
    our extras); one torch thread (competing thread pools on a busy machine slow
    down tenfold). Returns the ``subprocess.CompletedProcess``."""
    code = textwrap.dedent(
        f"""
        import importlib.abc, sys
        class Absent(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {tuple(absent)!r}:
                    raise ImportError("not on a device: " + name)
        sys.meta_path.insert(0, Absent())
        from {module}.__main__ import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env=env | (env_extra or {}),
    )


@pytest.fixture
def tiny_imagenet16(tmp_path, monkeypatch):
    """A small ImageNet16-120 in the official pickle format (200 random images).

    Points $ZCLIB_DATA and $ZCLIB_CACHE at tmp_path, so scoring tests need no
    shared data and leave no cache behind.
    """
    import pickle

    import numpy as np

    from zclib import data, paths

    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "ImageNet16"
    folder.mkdir(parents=True)
    batch = {
        "data": rng.integers(0, 256, (200, 768), dtype=np.uint8),
        "labels": list(rng.integers(1, 121, 200)),
    }
    with open(folder / "train_data_batch_1", "wb") as f:
        pickle.dump(
            {"data": batch["data"], "labels": [int(v) for v in batch["labels"]]}, f
        )
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "data"))
    monkeypatch.setenv(data.CACHE_ENV_VAR, str(tmp_path / "cache"))
    data.clear_cache()
    yield tmp_path
    data.clear_cache()


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty $ZCLIB_DATA; data/ and ../shared are moved out of sight (the data
    tests' one isolated data root)."""
    from zclib import data, paths

    r = tmp_path / "data"
    r.mkdir()
    monkeypatch.setenv(paths.ENV_VAR, str(r))
    monkeypatch.setenv(data.CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path / "proj")
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path / "proj" / "data")
    data.clear_cache()
    yield r
    data.clear_cache()


def synthetic_images(n: int, seed: int = 0):
    """uint8 N x 32 x 32 x 3 whose mean colour depends on the label (learnable),
    and the int64 labels."""
    import numpy as np

    colours = np.random.default_rng(123).integers(40, 216, (10, 3))  # every split
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = colours[y][:, None, None, :] + rng.normal(0, 30, (n, 32, 32, 3))
    return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)


@pytest.fixture
def fake_cifar(monkeypatch):
    """Route zclib.train.load_tensors through tiny synthetic CIFAR-10 splits (512
    train, 256 test images); the training tests' data."""
    from zclib import data, train

    splits = {"train": synthetic_images(512, 0), "test": synthetic_images(256, 1)}
    monkeypatch.setattr(data, "load_split", lambda ds, split, **kw: splits[split])
    train.clear_cache()
    yield splits
    train.clear_cache()  # no synthetic tensors left for later tests


@pytest.fixture(scope="session")
def chromium():
    """Skip unless headless Chromium and playwright are installed (the browser
    checks: ``make chromium``, ``make env``)."""
    from zclib import browser

    try:
        browser.chromium_path()
        import playwright  # noqa: F401 ([browser] extra)
    except (browser.BrowserMissingError, ImportError) as exc:
        pytest.skip(f"no headless browser: {exc} (make chromium; make env)")
