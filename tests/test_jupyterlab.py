"""A researcher's path: JupyterLab on 127.0.0.1, a notebook run through the UI.

    make test-browser      # this file and tests/test_browser.py

JupyterLab starts with a random token on a temporary root; headless Chromium
opens 00_data_check at smoke size (parameters injected by papermill without
executing), the notebook runs on the ``zclib`` kernel, Run All from the Run menu,
the kernel goes idle, File > Save. Measured here (2 busy cores): server up in
~7 s, Run All ~45-55 s with an empty image cache (the decoding bar shows), ~70 s
for the test; the limit is :data:`RUN_ALL_LIMIT`. The server is stopped at the
fixture's teardown in every case (the last test shows it on a failing body).
Skipped without chromium or the [browser] extra; the Run All test also without
../shared (the notebook reads the NATS-Bench data).
"""

from __future__ import annotations

import socket

import papermill
import pytest

from zclib import browser, notebooks
from zclib.data import CACHE_ENV_VAR

pytestmark = pytest.mark.browser
NAME = "00_data_check"
RUN_ALL_LIMIT = 240  # seconds for Run All (measured ~50 s here)
# lab extensions installed in this machine's shared venv beside our pins (not by
# `make env`); jupyterlab-jupytext 1.19.6 fails to load in JupyterLab 4.4.10
FOREIGN_EXTENSIONS = ("jupyterlab-jupytext",)


@pytest.fixture
def prepared(tmp_path, chromium):
    """The server's root with the smoke-size notebook; an empty image cache (so
    the decoding bar shows) and outputs under tmp_path."""
    root = tmp_path / "root"
    root.mkdir()
    src = notebooks.NOTEBOOK_DIR / f"{NAME}.ipynb"
    declared = notebooks.declared_parameters(src)
    params = {k: v for k, v in notebooks.SMOKE.items() if k in declared}
    params["RESULTS_DIR"] = str(tmp_path / "out")
    papermill.execute_notebook(
        str(src), str(root / f"{NAME}.ipynb"), parameters=params, prepare_only=True
    )
    return root


@pytest.fixture
def start_lab(prepared, tmp_path, monkeypatch):
    """``start_lab(*args)``: JupyterLab on the prepared root (an empty image cache
    in its environment), stopped at teardown whatever the test did; waits at most
    120 s for the server (:func:`zclib.browser.lab_server`)."""
    import contextlib
    import os

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    with contextlib.ExitStack() as stack:

        def start(*args: str) -> browser.Lab:
            server = browser.lab_server(
                prepared, env=dict(os.environ), args=args, start_timeout=120
            )
            return stack.enter_context(server)

        yield start


def _closed(lab) -> bool:
    port = int(lab.url.rsplit(":", 1)[1])
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_run_all_through_the_ui(start_lab, tmp_path, shared_dir):
    # the notebook reads the NATS-Bench data: skipped without ../shared
    lab = start_lab()
    assert lab.url.startswith("http://127.0.0.1:")
    with browser.browser() as b:
        page = b.new_page(viewport=browser.VIEWPORT)
        run = browser.run_in_lab(page, lab, f"{NAME}.ipynb", timeout=RUN_ALL_LIMIT)
    assert run.kernel == "zclib"
    assert run.errors == []
    assert run.n_code_cells > 5 and run.n_unrun == 0
    assert run.n_figures >= 1
    assert run.n_progress >= 1  # tqdm's widget bar (ipywidgets), not a warning
    assert not [s for s in run.stderr if "TqdmWarning" in s or not s.strip()]
    ours = [
        c
        for c in run.console
        if not any(f"/lab/extensions/{e}/" in c for e in FOREIGN_EXTENSIONS)
    ]
    assert ours == []
    assert run.seconds < RUN_ALL_LIMIT
    assert (tmp_path / "out" / "numbers.json").is_file()  # where RESULTS_DIR said


def test_fails_when_the_kernel_is_not_registered(start_lab):
    lab = start_lab("--KernelSpecManager.allowed_kernelspecs=python3")
    with browser.browser() as b:
        page = b.new_page(viewport=browser.VIEWPORT)
        # JupyterLab falls back to the only kernel left, or asks: either fails
        match = r"runs on kernel 'python3', not 'zclib'|'zclib' is not registered"
        with pytest.raises(browser.LabError, match=match):
            browser.run_in_lab(page, lab, f"{NAME}.ipynb", timeout=60)


def test_the_server_is_stopped_when_the_test_fails(prepared, tmp_path):
    with pytest.raises(RuntimeError, match="test body failed"):
        with browser.lab_server(prepared) as lab:
            raise RuntimeError("test body failed")
    assert _closed(lab)
