"""The study as a static site and as a page for a code-hosting site.

    python -m zclib report                              # results/ -> results/report/
    python -m zclib report --results-dir results/smoke  # from `make smoke` (tests)
    python -m zclib report --readme                     # results/README.md only

:func:`build` writes ``index.html`` (the summary's counts by status, every
exhibit's key figure with its one-sentence finding, links), one page per executed
notebook (``notebooks/<name>.html``, nbconvert's lab template in an offline form:
no require.js, MathJax or widget scripts from a CDN) and the provenance (commit,
data, device) on every page. :func:`write_readme` writes ``results/README.md``,
the same front page in markdown with the committed figures embedded.

Everything the front pages say comes from data: the counts and findings from the
summary notebook's ``99_summary/summary.csv`` (:func:`load_summary`), the titles
from the notebooks' title cells, the provenance from each ``numbers.json``.
Deviation from nbconvert's default HTML: no MathJax (the notebooks hold no TeX),
and a widget output (tqdm's bar in Jupyter) shows its text form, since no widget
manager is shipped.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zclib.paths import PROJECT_ROOT, RESULTS_DIR
from zclib.provenance import git_commit, portable_path

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
# the one figure of each exhibit the front pages show (a PNG stem in its folder)
KEY_FIGURES = {
    "00_data_check": "accuracy_hist",
    "01_table_spearman_nb201": "reproduced_vs_published",
    "02_zico_vs_params": "zico_minus_params_bootstrap",
    "03_naswot_correlation": "naswot_vs_accuracy",
    "04_search_course_project": "course_tables_published_vs_ours",
    "05_search_baselines_time_budget": "best_so_far_vs_time",
    "06_search_zero_cost_speedup": "best_so_far_vs_trained_models",
    "07_econas_reduced_training": "fig1_correlation_vs_cost",
    "99_summary": "published_vs_reproduced",
}
SUMMARY = "99_summary"
# statuses in the order the counts are shown; a status the summary adds later
# (issue 16: explained, pending, ...) is listed after these
STATUS_ORDER = ("within", "consistent within sampling error", "explained")
STATUS_ORDER += ("pending", "outside", "no tolerance")
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


@dataclass(frozen=True)
class Exhibit:
    """One notebook as the front pages show it.

    Attributes:
        name: notebook stem.
        title: its title cell's first line, without ``# ``.
        finding: one sentence from the summary's rows (or its record count).
        figure: the key figure's PNG under the results root, or None if absent.
        executed: the executed notebook under the results root, or None.
        smoke: the parameters of :data:`zclib.notebooks.SMOKE` it ran with ({}:
            a run at the study's size).
    """

    name: str
    title: str
    finding: str
    figure: Path | None
    executed: Path | None
    smoke: dict


def load_summary(results_dir: str | Path | None = None) -> pd.DataFrame:
    """The summary notebook's table (``<root>/99_summary/summary.csv``) with a
    ``status`` column: the summary's own where it has one, else from ``within``
    (True: within, False: outside, empty: no tolerance).

    Args:
        results_dir: results root (default ``results/``).

    Returns:
        One row per published number; an empty frame if the summary has not run.
    """
    path = Path(results_dir or RESULTS_DIR) / SUMMARY / "summary.csv"
    if not path.exists():
        return pd.DataFrame(columns=["notebook", "status"])
    return _with_status(pd.read_csv(path))


def _with_status(df: pd.DataFrame) -> pd.DataFrame:
    if "status" not in df:
        within = df["within"].astype(str).str.lower().map(_WITHIN)
        df["status"] = within.fillna("no tolerance")
    return df


_WITHIN = {"true": "within", "false": "outside"}  # summary.csv's within column


def status_counts(summary: pd.DataFrame) -> dict[str, int]:
    """Rows per status, in :data:`STATUS_ORDER` (then any other status, sorted);
    statuses with no row are left out.

    Args:
        summary: :func:`load_summary`'s table.

    Returns:
        ``{status: count}``.
    """
    counts = summary["status"].value_counts() if len(summary) else pd.Series()
    order = [s for s in STATUS_ORDER if s in counts]
    order += sorted(s for s in counts.index if s not in STATUS_ORDER)
    return {s: int(counts[s]) for s in order}


def finding(rows: pd.DataFrame, n_recorded: int = 0) -> str:
    """One sentence on how an exhibit's published numbers came out.

    Args:
        rows: the summary's rows of one notebook (:func:`load_summary`).
        n_recorded: numbers the notebook recorded (said when none is compared).

    Returns:
        e.g. "33 published numbers compared: 15 within tolerance, 10 outside and 8
        without a stated tolerance (...); the furthest off is fisher:... on
        cifar10 (ours 0.542, published 0.36)."
    """
    if not len(rows):
        return (
            f"Records {n_recorded} numbers of its own; none has a published "
            "counterpart to compare with."
        )
    counts = status_counts(rows)
    parts = [f"{n} {_status_phrase(s)}" for s, n in counts.items()]
    text = f"{len(rows)} published numbers compared: " + _join(parts)
    n_stand_in = int(rows["stand_in"].fillna(False).astype(bool).sum())
    if n_stand_in:
        text += f" ({n_stand_in} on stand-in data)"
    out = rows[rows["status"] == "outside"]
    if len(out):
        tol = out["tolerance"].astype(float).replace(0, np.nan)
        off = (out["delta"].astype(float).abs() / tol).fillna(0.0)
        worst = out.loc[off.idxmax()]
        text += (
            f"; the furthest off is {worst['metric']} on {worst['dataset']} "
            f"(ours {worst['reproduced']:.3g}, published {worst['published']:.3g})"
        )
    return text + "."


def _status_phrase(status: str) -> str:
    return {
        "within": "within tolerance",
        "outside": "outside",
        "no tolerance": "without a stated tolerance",
    }.get(status, status)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def notebook_title(name: str) -> str:
    """The first line of a notebook's title cell, without ``# ``."""
    nb = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text())
    first = "".join(nb["cells"][0]["source"]).splitlines()[0]
    return first.lstrip("# ").strip()


def exhibits(results_dir: str | Path | None = None) -> list[Exhibit]:
    """Every notebook of the study, in reading order, as the front pages show it.

    Args:
        results_dir: results root (default ``results/``).
    """
    from zclib import notebooks

    root = Path(results_dir or RESULTS_DIR)
    summary = load_summary(root)
    out = []
    for name in notebooks.notebook_names():
        numbers = root / name / "numbers.json"
        n_rec = (
            len(json.loads(numbers.read_text())["numbers"]) if numbers.is_file() else 0
        )
        rows = summary[summary["notebook"] == name]
        if name == SUMMARY:
            text = _summary_sentence(summary)
        else:
            text = finding(rows, n_rec)
        fig = root / name / f"{KEY_FIGURES.get(name, '')}.png"
        executed = root / name / f"{name}.ipynb"
        out.append(
            Exhibit(
                name=name,
                title=notebook_title(name),
                finding=text,
                figure=fig if fig.is_file() else None,
                executed=executed if executed.is_file() else None,
                smoke=smoke_parameters(executed) if executed.is_file() else {},
            )
        )
    return out


def smoke_parameters(executed: Path) -> dict:
    """The smoke sizes (:data:`zclib.notebooks.SMOKE`) an executed notebook was
    given, from the parameters papermill recorded in it ({}: none)."""
    from zclib.notebooks import SMOKE

    nb = json.loads(Path(executed).read_text())
    given = nb.get("metadata", {}).get("papermill", {}).get("parameters", {})
    return {k: v for k, v in given.items() if k in SMOKE and SMOKE[k] == v}


def smoke_banner(exs: list[Exhibit]) -> str:
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


def _summary_sentence(summary: pd.DataFrame) -> str:
    if not len(summary):
        return "The summary has not been run: no published numbers gathered yet."
    counts = status_counts(summary)
    return (
        f"All {len(summary)} published numbers beside ours: "
        + _join([f"{n} {_status_phrase(s)}" for s, n in counts.items()])
        + "."
    )


def provenance_of(name: str, results_dir: str | Path | None = None) -> dict:
    """The provenance ``<root>/<name>/numbers.json`` records ({} if absent)."""
    path = Path(results_dir or RESULTS_DIR) / name / "numbers.json"
    return json.loads(path.read_text())["provenance"] if path.exists() else {}


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


def _nav(prefix: str, exs: list[Exhibit], current: str | None) -> str:
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
    exs = exhibits(root)
    for ex in exs:
        if ex.figure is not None:
            dest = out / "figures" / ex.name / ex.figure.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ex.figure, dest)
        if ex.executed is not None:
            header = (
                _nav("../", exs, ex.name)
                + smoke_banner(exs)
                + provenance_html(provenance_of(ex.name, root), source)
            )
            page = notebook_html(ex.executed, header)
            (out / "notebooks" / f"{ex.name}.html").write_text(page)
    index = out / "index.html"
    index.write_text(front_page_html(exs, load_summary(root), root, source))
    return index


def front_page_html(
    exs: list[Exhibit], summary: pd.DataFrame, root: Path, source: str
) -> str:
    """The site's front page (links relative to the site's root).

    Args:
        exs: :func:`exhibits`.
        summary: :func:`load_summary`.
        root: the results root (for the summary's provenance).
        source: the results folder as shown.
    """
    counts = status_counts(summary)
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
        provenance_html(provenance_of(SUMMARY, root), source),
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


def readme_markdown(results_dir: str | Path | None = None) -> str:
    """``results/README.md``: counts by status, then every exhibit's key figure
    with its finding, as a code-hosting site shows markdown (paths relative to
    ``results/``).

    Args:
        results_dir: results root (default ``results/``, the committed results).
    """
    root = Path(results_dir or RESULTS_DIR)
    summary = load_summary(root)
    lines = [
        "# Results: published vs reproduced",
        "",
        "Written by `make report` (`python -m zclib report --readme`) from the "
        "committed results; the full table is "
        f"[`{SUMMARY}/summary.md`]({SUMMARY}/summary.md), each notebook's numbers "
        "with provenance are in `<notebook>/numbers.json`. The executed notebooks "
        "are not in git: `make reproduce && make report` builds them as a static "
        "site in `results/report/`.",
        "",
        "| status | numbers |",
        "| --- | ---: |",
        *[f"| {s} | {n} |" for s, n in status_counts(summary).items()],
        "",
    ]
    for ex in exhibits(root):
        lines += [f"## {ex.title}", "", ex.finding, ""]
        if ex.figure is not None:
            rel = ex.figure.relative_to(root).as_posix()
            lines += [f"![{ex.name}: {ex.figure.stem}]({rel})", ""]
        nb = f"notebooks/{ex.name}.ipynb"
        lines += [f"Notebook: [`{nb}`](../{nb})", ""]
    return "\n".join(lines)


def write_readme(results_dir: str | Path | None = None) -> Path:
    """Write :func:`readme_markdown` to ``<root>/README.md``; returns its path."""
    from zclib.fileio import write_text_atomic

    root = Path(results_dir or RESULTS_DIR)
    return write_text_atomic(readme_markdown(root), root / "README.md")


KEY = ["notebook", "experiment", "metric", "dataset"]  # one published number


def moved(old: pd.DataFrame, new: pd.DataFrame, atol: float = 1e-9) -> pd.DataFrame:
    """The published-vs-reproduced rows that changed between two summaries (what
    CHANGELOG.md lists per version): a reproduced value that moved by more than
    ``atol``, a status that changed, or a number compared in only one of them.

    Args:
        old, new: :func:`load_summary` tables (e.g. at a version's tag and now).
        atol: absolute change below which a value has not moved.

    Returns:
        ``KEY`` columns, ``old``/``new`` reproduced value and status, ``change``
        ("moved", "status", "added", "removed"), sorted by ``KEY``.
    """
    cols = [*KEY, "reproduced", "status"]
    m = old[cols].merge(
        new[cols], on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    delta = (m["reproduced_new"] - m["reproduced_old"]).abs()
    m["change"] = np.select(
        [
            m["_merge"] == "left_only",
            m["_merge"] == "right_only",
            m["status_old"] != m["status_new"],
            delta > atol,
        ],
        ["removed", "added", "status", "moved"],
        default="",
    )
    out = m[m["change"] != ""].drop(columns="_merge")
    return out.sort_values(KEY, kind="stable").reset_index(drop=True)


def summary_at(rev: str) -> pd.DataFrame:
    """:func:`load_summary` of the committed ``results/`` at a git revision (a
    version tag ``v0.1.0``, a commit)."""
    import io
    import subprocess

    rel = f"results/{SUMMARY}/summary.csv"
    text = subprocess.run(
        ["git", "show", f"{rev}:{rel}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _with_status(pd.read_csv(io.StringIO(text)))


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
        diff = moved(summary_at(args.moved_since), load_summary(args.results_dir))
        print(diff.to_string(index=False) if len(diff) else "no number moved")
        return 0
    if args.readme:
        print(f"[report] {write_readme(args.results_dir)}", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
