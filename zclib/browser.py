"""Real-browser checks: the static report, and a notebook run through JupyterLab.

    python -m zclib.browser check results/report     # every page; screenshots/
    python -m zclib.browser lab notebooks/00_data_check.ipynb   # Run All in the UI

Headless Chromium is Debian's ``chromium`` (``apt-get install -y chromium``; no
browser is downloaded), driven by Playwright for Python through
``executable_path``; the ``[browser]`` extra pins Playwright. As root Chromium
needs ``--no-sandbox``. Pages load from ``file://``; every request to anything but
``file:`` or 127.0.0.1 is refused, so a page that needs the network fails its
check with a console error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

CHROMIUM = ("chromium", "chromium-browser")  # Debian's binary names
VIEWPORT = {"width": 1280, "height": 1000}  # pixels
_PAGE_JS = """() => ({
  images: [...document.images].map(i => [i.getAttribute('src').slice(0, 80),
                                         i.complete, i.naturalWidth]),
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  remote: [...document.querySelectorAll('script[src], link[href], img[src]')]
    .map(e => e.getAttribute('src') || e.getAttribute('href'))
    .filter(u => /^(https?:)?\\/\\//.test(u)),
  cell_errors: document.querySelectorAll('.zclib-cell-error').length,
})"""


class BrowserMissingError(RuntimeError):
    """Debian's chromium or the [browser] extra (Playwright) is not installed."""


def chromium_path() -> str:
    """Path of the system Chromium.

    Raises:
        BrowserMissingError: none on PATH (``apt-get install -y chromium``).
    """
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissingError("no chromium on PATH: apt-get install -y chromium")


@contextlib.contextmanager
def browser():
    """A headless Chromium (Playwright ``Browser``), closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissingError(
            "the browser checks need the [browser] extra: pip install -e '.[browser]'"
        ) from None
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # root: no user namespace
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=args)
        try:
            yield b
        finally:
            b.close()


def _local_only(route) -> None:
    """Let ``file:`` and 127.0.0.1 through, refuse the rest (no network at view
    time)."""
    url = urlparse(route.request.url)
    if url.scheme in ("file", "data") or url.hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


@dataclass
class PageCheck:
    """What one page showed in the browser.

    Attributes:
        path: the HTML file.
        problems: one line each (empty: the page is fine).
        n_images: ``<img>`` elements on it.
        n_links: internal links checked.
    """

    path: Path
    problems: list[str] = field(default_factory=list)
    n_images: int = 0
    n_links: int = 0


def check_page(page, path: Path) -> PageCheck:
    """Load one HTML file and check it: no console error, every ``<img>`` decoded
    (naturalWidth > 0), no remote script, stylesheet or image, no notebook cell
    with an error output, every internal link resolving to a file (and its
    ``#fragment`` to an id there).

    Args:
        page: a Playwright ``Page`` with :func:`_local_only` routing.
        path: the HTML file.
    """
    res = PageCheck(path)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    url = path.resolve().as_uri()
    page.goto(url, wait_until="load")
    info = page.evaluate(_PAGE_JS)
    res.problems += [f"console: {e}" for e in errors]
    res.n_images = len(info["images"])
    res.problems += [
        f"image not decoded: {src}" for src, ok, w in info["images"] if not ok or w == 0
    ]
    res.problems += [f"remote resource: {u}" for u in info["remote"]]
    if info["cell_errors"]:
        res.problems.append(f"{info['cell_errors']} cell(s) with an error output")
    for href in info["links"]:
        target = urlparse(urljoin(url, href))
        if target.scheme != "file":
            continue  # a link out (a paper); not part of the site
        res.n_links += 1
        file = Path(unquote(target.path))
        if not file.is_file():
            res.problems.append(f"broken link: {href}")
        elif target.fragment and not re.search(
            rf'id="{re.escape(target.fragment)}"', file.read_text(errors="replace")
        ):
            res.problems.append(f"broken anchor: {href}")
    return res


def check_site(site: str | Path, screenshots: bool = True) -> list[PageCheck]:
    """Check every HTML page of a site (:func:`check_page`) in one browser, and
    save ``screenshots/front.png`` (the whole front page) and
    ``screenshots/notebook.png`` (the top of the first notebook page).

    Args:
        site: the site folder (``results/report``).
        screenshots: write the two screenshots.

    Returns:
        One :class:`PageCheck` per page, front page first.
    """
    site = Path(site)
    pages = [site / "index.html"] + sorted((site / "notebooks").glob("*.html"))
    if not pages[0].is_file():
        raise FileNotFoundError(f"{pages[0]}: no report (make report)")
    out = []
    with browser() as b:
        for path in pages:
            ctx = b.new_context(viewport=VIEWPORT)
            ctx.route("**/*", _local_only)
            page = ctx.new_page()
            out.append(check_page(page, path))
            if screenshots and path in pages[:2]:
                shots = site / "screenshots"
                shots.mkdir(exist_ok=True)
                name = "front.png" if path == pages[0] else "notebook.png"
                page.screenshot(path=str(shots / name), full_page=path == pages[0])
            ctx.close()
    return out


# -- JupyterLab: a notebook run through the UI, as a researcher would


class LabError(RuntimeError):
    """JupyterLab did not start, or the notebook could not be run in it."""


@dataclass
class Lab:
    """A running JupyterLab server (:func:`lab_server`).

    Attributes:
        url: ``http://127.0.0.1:<port>``.
        token: its random token.
        root: the server's root folder.
        log: the server's log file.
    """

    url: str
    token: str
    root: Path
    log: Path

    def api(self, path: str):
        """GET ``/api/<path>`` as JSON."""
        import json
        from urllib.request import urlopen

        with urlopen(f"{self.url}/api/{path}?token={self.token}", timeout=10) as r:
            return json.loads(r.read())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# user settings of the test server: every cell in the DOM (no windowing, so the
# prompts can be read), no news notification
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}


def _lab_settings(folder: Path) -> dict:
    """Write :data:`LAB_SETTINGS` under ``folder``; returns the environment
    variable that points JupyterLab there (these settings, not the user's)."""
    import json

    for plugin, values in LAB_SETTINGS.items():
        f = folder / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    return {"JUPYTERLAB_SETTINGS_DIR": str(folder)}


@contextlib.contextmanager
def lab_server(
    root: str | Path,
    env: dict | None = None,
    args: tuple[str, ...] = (),
    start_timeout: float = 120.0,
):
    """JupyterLab on 127.0.0.1 with a random token, serving ``root``; stopped on
    exit in every case (SIGTERM to its process group, SIGKILL after 15 s).

    Args:
        root: the server's root folder (a temporary one in the tests).
        env: environment of the server and so of its kernels (default: ours).
        args: more ``jupyter lab`` options (e.g. a KernelSpecManager setting).
        start_timeout: seconds to wait for ``/api/status``.

    Yields:
        A :class:`Lab`.
    """
    import secrets
    import signal
    import subprocess
    from urllib.error import URLError

    root = Path(root)
    token, port = secrets.token_hex(16), _free_port()
    log = root.parent / f"jupyterlab-{port}.log"
    env = dict(os.environ if env is None else env)
    env.update(_lab_settings(root.parent / f"jupyterlab-{port}"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser"]
    cmd += ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}"]
    cmd += ["--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    cmd += [f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly"]
    cmd += ["--allow-root"] if os.geteuid() == 0 else []
    cmd += list(args)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        t0 = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise LabError(f"jupyter lab exited ({proc.returncode}); see {log}")
            try:
                lab.api("status")
                break
            except (URLError, OSError):
                if time.monotonic() - t0 > start_timeout:
                    raise LabError(
                        f"jupyter lab not up in {start_timeout:.0f} s"
                    ) from None
                time.sleep(0.5)
        yield lab
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)


@dataclass
class LabRun:
    """What a Run All through JupyterLab's UI left.

    Attributes:
        kernel: the kernel the notebook ran on.
        seconds: from clicking Run All to the kernel going idle.
        n_code_cells: code cells of the saved notebook.
        n_unrun: code cells the saved notebook holds without an execution count.
        n_figures: images rendered in the page (naturalWidth > 0).
        n_progress: most progress bar widgets seen in the page at once.
        errors: error outputs of the saved notebook (``ename: evalue``).
        stderr: the saved notebook's stderr stream texts (an empty one is the red
            strip a bar leaves behind).
        console: console errors of the page.
    """

    kernel: str
    seconds: float
    n_code_cells: int
    n_unrun: int
    n_figures: int
    n_progress: int
    errors: list[str]
    stderr: list[str]
    console: list[str]


_PROMPTS_JS = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
  .map(e => e.textContent.trim())"""
_RENDERED_JS = """() => ({
  figures: [...document.querySelectorAll('.jp-OutputArea-output img')]
    .filter(i => i.naturalWidth > 0).length,
  progress: document.querySelectorAll('.jp-OutputArea-output .widget-hprogress')
    .length,
})"""


def _select_kernel(page, lab: Lab, path: str, kernel: str, timeout: float) -> str:
    """Wait for the notebook's session; pick ``kernel`` in JupyterLab's Select
    Kernel dialog if it asks. Returns the session's kernel name.

    Raises:
        LabError: ``kernel`` is not offered (not registered) or no session came.
    """
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and dialog.locator("select").count():
            options = dialog.locator("select option").evaluate_all(
                "os => os.map(o => o.value)"
            )
            wanted = [o for o in options if kernel in o]
            if not wanted:
                raise LabError(
                    f"kernel {kernel!r} is not registered: offered {options}"
                )
            dialog.locator("select").select_option(wanted[0])
            dialog.locator(".jp-mod-accept").click()
        sessions = [s for s in lab.api("sessions") if s.get("path") == path]
        if sessions and sessions[0].get("kernel"):
            return sessions[0]["kernel"]["name"]
        time.sleep(0.5)
    raise LabError(f"no kernel session for {path} in {timeout:.0f} s")


def run_in_lab(
    page, lab: Lab, path: str, kernel: str = "zclib", timeout: float = 600.0
) -> LabRun:
    """Open ``path`` in JupyterLab, make sure it runs on ``kernel``, Run All from
    the Run menu, wait for every cell to finish and the kernel to go idle, save
    (File > Save, Ctrl+S) and read what the saved file holds.

    Args:
        page: a Playwright ``Page``.
        lab: the server (:func:`lab_server`).
        path: the notebook, relative to the server's root.
        kernel: the kernel it must run on.
        timeout: seconds for the whole run.

    Raises:
        LabError: the kernel is not offered, or the run did not finish in time.
    """
    import json

    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=120_000)
    name = _select_kernel(page, lab, path, kernel, timeout=120)
    if name != kernel:
        raise LabError(f"{path} runs on kernel {name!r}, not {kernel!r}")
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    t0, n_progress = time.monotonic(), 0
    while True:
        # a bar with leave=False is gone when done: count them while running
        n_progress = max(n_progress, page.evaluate(_RENDERED_JS)["progress"])
        prompts = page.evaluate(_PROMPTS_JS)
        done = prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts)
        sid = [s for s in lab.api("sessions") if s.get("path") == path]
        idle = sid and sid[0]["kernel"]["execution_state"] == "idle"
        if done and idle:
            break
        if time.monotonic() - t0 > timeout:
            raise LabError(f"Run All not finished in {timeout:.0f} s: {prompts}")
        time.sleep(0.5)
    seconds = time.monotonic() - t0
    rendered = page.evaluate(_RENDERED_JS)
    file = lab.root / path
    before = file.stat().st_mtime_ns
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    page.keyboard.press("Control+s")
    for _ in range(60):
        if file.stat().st_mtime_ns != before:
            break
        time.sleep(0.5)
    else:
        raise LabError(f"{path} was not saved")
    time.sleep(0.5)  # the write is atomic, but let it settle
    nb = json.loads(file.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    return LabRun(
        kernel=name,
        seconds=seconds,
        n_code_cells=len(code),
        n_unrun=sum(c.get("execution_count") is None for c in code),
        n_figures=rendered["figures"],
        n_progress=max(n_progress, rendered["progress"]),
        errors=[
            f"{o['ename']}: {o['evalue']}"
            for o in outputs
            if o["output_type"] == "error"
        ],
        stderr=[
            "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
            for o in outputs
            if o["output_type"] == "stream" and o["name"] == "stderr"
        ],
        console=console,
    )


def _cmd_check(args: argparse.Namespace) -> int:
    checks = check_site(args.site, screenshots=not args.no_screenshots)
    bad = 0
    for c in checks:
        status = "ok" if not c.problems else f"{len(c.problems)} problem(s)"
        print(f"{c.path}: {c.n_images} images, {c.n_links} links, {status}")
        for p in c.problems:
            print(f"    {p}")
        bad += bool(c.problems)
    print(f"{len(checks) - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m zclib.browser check SITE`` (exit 1 on any problem)."""
    ap = argparse.ArgumentParser(prog="python -m zclib.browser")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="check every page of the static report")
    c.add_argument("site", nargs="?", default="results/report")
    c.add_argument("--no-screenshots", action="store_true")
    c.set_defaults(func=_cmd_check)
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    rc = args.func(args)
    print(f"[browser] {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
