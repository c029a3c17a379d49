"""The study as a static site: ``make report``.

    python -m zclib report                              # results/ -> results/report/
    python -m zclib report --results-dir results/smoke  # from `make smoke` (tests)
    python -m zclib report --readme                     # results/README.md only
    python -m zclib report --moved-since v0.1.0         # numbers that changed

:func:`build` writes ``index.html`` (the summary's counts by status, every
exhibit's key figure with its one-sentence finding, links: :mod:`zclib.findings`),
one page per executed notebook (``notebooks/<name>.html``, nbconvert's lab
template in an offline form: no require.js, MathJax or widget scripts from a CDN)
and the provenance (commit, data, device) on every page; a smoke run is flagged
on every page. Deviation from nbconvert's default HTML: no MathJax (the notebooks
hold no TeX), and a widget output (tqdm's bar in Jupyter) shows its text form,
since no widget manager is shipped.
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
from pathlib import Path

import pandas as pd

from zclib import findings
from zclib.paths import RESULTS_DIR
from zclib.provenance import git_commit, portable_path

OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style>{{ resources.zclib_css }}</style>{%- endblock -%}
{%- block body_header -%}{{ super() }}{{ resources.zclib_header }}{%- endblock -%}
{% block error -%}<div class="zclib-cell-error">{{ super() }}</div>{%- endblock %}
"""


CSS = """
body { font-family: system-ui, sans-serif; line-height: 1.45; }
.zclib-nav, .zclib-prov { max-width: 1100px; margin: 0.6em auto; padding: 0.5em 1em;
  font-size: 0.9em; }
.zclib-nav { border-bottom: 1px solid #ccc; }
.zclib-nav a, .zclib-front a { color: #0645ad; text-decoration: underline; }
.zclib-smoke { max-width: 1100px; margin: 0.6em auto; padding: 0.5em 1em;
  background: #fff3cd; border: 1px solid #e0b400; border-radius: 4px; }
.zclib-prov { background: #f4f4f4; border-radius: 4px; }
.zclib-prov code { word-break: break-all; }
.zclib-cell-error { border-left: 4px solid #d62728; }
main.zclib-front { max-width: 1100px; margin: 0 auto; padding: 0 1em 3em; }
.zclib-front table { border-collapse: collapse; margin: 0.5em 0 1em; }
.zclib-front td, .zclib-front th { border: 1px solid #ccc; padding: 0.2em 0.6em;
  text-align: right; }
.zclib-front td:first-child, .zclib-front th:first-child { text-align: left; }
.zclib-front figure { margin: 1em 0 2.5em; }
.zclib-front img { max-width: 100%; height: auto; border: 1px solid #eee; }
.zclib-finding { font-size: 1.05em; }
"""


def smoke_banner(exs: list[findings.Exhibit]) -> str:
    """A warning box when any page was built from a smoke run ('' otherwise)."""
    sizes = {}
    for ex in exs:
        sizes.update(ex.smoke)
    if not sizes:
        return ""
    shown = ", ".join(f"{k}={v}" for k, v in sorted(sizes.items()))
    return (
        f'<div class="zclib-smoke"><b>Smoke run</b> (tiny sizes: {html.escape(shown)})'
        ": these pages test the code; their numbers are not the study's results "
        "(<code>make reproduce && make report</code> builds those).</div>"
    )


def provenance_html(prov: dict, source: str) -> str:
    """The provenance box of a page: commit (and dirty flag), zclib version, data,
    device, and what the page was built from.

    Args:
        prov: a ``numbers.json`` provenance ({}: not recorded).
        source: the results folder the page was built from, as shown.
    """
    commit, dirty = git_commit()
    rows = [("built from", f"<code>{html.escape(source)}</code>")]
    rows.append(("report built at commit", _commit(commit, dirty)))
    if prov:
        rows.append(
            (
                "numbers recorded at commit",
                _commit(prov.get("git_commit", "unknown"), prov.get("git_dirty")),
            )
        )
        rows.append(("zclib", html.escape(str(prov.get("zclib_version", "?")))))
        data = prov.get("data_source") or {}
        if isinstance(data, dict) and data:
            rows.append(("data", _code_list(data)))
        bench = prov.get("benchmark") or []
        paths = {b.get("path") for b in bench if isinstance(b, dict)} - {None}
        if paths:
            rows.append(("benchmark", _code_list(dict.fromkeys(sorted(paths), ""))))
        device = prov.get("DEVICE")
        rows.append(("device", html.escape(str(device or "not recorded"))))
    else:
        rows.append(("numbers", "not recorded (no numbers.json)"))
    body = "; ".join(f"<b>{k}</b>: {v}" for k, v in rows)
    return f'<div class="zclib-prov">Provenance. {body}</div>'


def _commit(commit: str, dirty) -> str:
    flag = " (dirty tree)" if dirty else ""
    return f"<code>{html.escape(str(commit)[:12])}</code>{flag}"


def _code_list(d: dict) -> str:
    items = [
        f"{html.escape(str(k))}{': ' if v else ''}<code>{html.escape(str(v))}</code>"
        if v
        else f"<code>{html.escape(str(k))}</code>"
        for k, v in d.items()
    ]
    return ", ".join(items)


def _nav(prefix: str, exs: list[findings.Exhibit], current: str | None) -> str:
    links = [f'<a href="{prefix}index.html">Front page</a>']
    for ex in exs:
        if ex.executed is None:
            continue
        label, title = ex.name[:2], html.escape(ex.title, quote=True)
        if ex.name == current:
            links.append(f"<b>{label}</b>")
        else:
            href = f"{prefix}notebooks/{ex.name}.html"
            links.append(f'<a href="{href}" title="{title}">{label}</a>')
    return '<nav class="zclib-nav">' + " · ".join(links) + "</nav>"


def notebook_html(executed: Path, header: str) -> str:
    """An executed notebook as one self-contained offline HTML page.

    Args:
        executed: the executed ``.ipynb``.
        header: HTML put at the top of the body (navigation, provenance).

    Returns:
        The page: figures embedded as data URIs, no script or style from a network.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("widgets", None)  # widget state: would load the CDN manager
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                del data["application/vnd.jupyter.widget-view+json"]
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"zclib_offline.html.j2": OFFLINE_TEMPLATE})],
        template_file="zclib_offline.html.j2",
    )
    body, _ = exporter.from_notebook_node(
        nb, resources={"zclib_css": CSS, "zclib_header": header}
    )
    return body


def build(
    results_dir: str | Path | None = None, out_dir: str | Path | None = None
) -> Path:
    """Write the static site: ``index.html``, ``figures/``, ``notebooks/*.html``.

    Args:
        results_dir: results root the notebooks wrote to (default ``results/``;
            ``results/smoke`` after ``make smoke``).
        out_dir: where the site goes (default ``<results/>report/``); emptied
            first, except ``screenshots/``.

    Returns:
        The front page's path.
    """
    root = Path(results_dir or RESULTS_DIR)
    out = Path(out_dir or RESULTS_DIR / "report")
    source = portable_path(root)
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.name != "screenshots":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    (out / "notebooks").mkdir()
    exs = findings.exhibits(root)
    for ex in exs:
        if ex.figure is not None:
            dest = out / "figures" / ex.name / ex.figure.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ex.figure, dest)
        if ex.executed is not None:
            header = (
                _nav("../", exs, ex.name)
                + smoke_banner(exs)
                + provenance_html(findings.provenance_of(ex.name, root), source)
            )
            page = notebook_html(ex.executed, header)
            (out / "notebooks" / f"{ex.name}.html").write_text(page)
    index = out / "index.html"
    index.write_text(front_page_html(exs, findings.load_summary(root), root, source))
    return index


def front_page_html(
    exs: list[findings.Exhibit], summary: pd.DataFrame, root: Path, source: str
) -> str:
    """The site's front page (links relative to the site's root).

    Args:
        exs: :func:`zclib.findings.exhibits`.
        summary: :func:`zclib.findings.load_summary`.
        root: the results root (for the summary's provenance).
        source: the results folder as shown.
    """
    counts = findings.status_counts(summary)
    rows = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{n}</td></tr>" for s, n in counts.items()
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>zclib: training-free NAS on NATS-Bench, reproduced</title>",
        f"<style>{CSS}</style></head><body>",
        _nav("", exs, None),
        smoke_banner(exs),
        provenance_html(findings.provenance_of(findings.SUMMARY, root), source),
        '<main class="zclib-front">',
        "<h1>Training-free NAS on NATS-Bench: published vs reproduced</h1>",
        f"<p>{len(summary)} published numbers set beside ours, by status:</p>",
        f"<table><tr><th>status</th><th>numbers</th></tr>{rows}</table>"
        if counts
        else "<p>The summary notebook has not been run.</p>",
        "<h2>Exhibits</h2>",
    ]
    for ex in exs:
        link = (
            f'<a href="notebooks/{ex.name}.html">{html.escape(ex.title)}</a>'
            if ex.executed is not None
            else html.escape(ex.title) + " (not executed: no page)"
        )
        parts.append(f'<figure id="{ex.name}"><h3>{link}</h3>')
        parts.append(f'<p class="zclib-finding">{html.escape(ex.finding)}</p>')
        if ex.figure is not None:
            src = f"figures/{ex.name}/{ex.figure.name}"
            alt = html.escape(f"{ex.name}: {ex.figure.stem}")
            parts.append(f'<img src="{src}" alt="{alt}">')
        parts.append("</figure>")
    parts += ["</main></body></html>"]
    return "\n".join(parts)


def _arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    ap.add_argument(
        "--results-dir", default=None, help="results root (default results/)"
    )
    ap.add_argument("--out", default=None, help="site folder (default results/report)")
    ap.add_argument(
        "--moved-since",
        metavar="REV",
        help="list the published-vs-reproduced numbers that changed since a git "
        "revision (a version tag) and exit (for CHANGELOG.md)",
    )
    ap.add_argument(
        "--readme",
        action="store_true",
        help="write <results root>/README.md only (no site)",
    )
    return ap


def _cmd_report(args: argparse.Namespace) -> int:
    if args.moved_since:
        diff = findings.moved(
            findings.summary_at(args.moved_since),
            findings.load_summary(args.results_dir),
        )
        print(diff.to_string(index=False) if len(diff) else "no number moved")
        return 0
    if args.readme:
        print(f"[report] {findings.write_readme(args.results_dir)}", file=sys.stderr)
        return 0
    index = build(args.results_dir, args.out)
    pages = sorted(p.name for p in (index.parent / "notebooks").glob("*.html"))
    print(
        f"[report] {index} ({len(pages)} notebook pages: {', '.join(pages) or 'none'})",
        file=sys.stderr,
    )
    return 0


def add_cli(sub) -> None:
    """Register ``report`` with the ``python -m zclib`` parser."""
    p = sub.add_parser("report", help="static HTML site of the executed notebooks")
    _arguments(p).set_defaults(func=_cmd_report)


def main(argv: list[str] | None = None) -> int:
    """CLI (``python -m zclib.report``)."""
    return _cmd_report(
        _arguments(argparse.ArgumentParser(prog="zclib report")).parse_args(argv)
    )
