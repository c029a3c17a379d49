"""Which benchmark source to read: the official folder or the CSVs, and where.

    from zclib.bench.sources import resolve
    resolve("auto")  # Source(kind="official" | "csv", paths=(...), notes=(...))

First found wins with ``source="auto"``: a complete official folder over the data
roots of :mod:`zclib.paths` then ``$TORCH_HOME``, else the three CSVs. When
nothing is found, the message lists every place searched and how to get the data.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from zclib import paths
from zclib.bench.csv_tables import CSV_RELPATHS
from zclib.bench.official import (
    META_FILE,
    OFFICIAL_NAME,
    OFFICIAL_RELPATHS,
    official_status,
)

HOW_TO_GET = (
    f"To fix: download {OFFICIAL_NAME} (the topology-space 'simple' archive of the "
    "NATS-Bench project, https://github.com/D-X-Y/NATS-Bench), unpack it into "
    f"{paths.DATA_DIR} or point ${paths.ENV_VAR} (or $TORCH_HOME) at the folder "
    "holding it; or use the offline CSVs: put "
    f"{', '.join(Path(p).name for p in CSV_RELPATHS)} in <data root>/nats-bench/."
)


@dataclasses.dataclass(frozen=True)
class Source:
    """Files to read: the kind of source, its paths, why others were skipped."""

    kind: str  # "official" or "csv"
    paths: tuple[Path, ...]  # official: (folder,); csv: the CSV_RELPATHS files
    notes: tuple[str, ...] = ()  # why other candidates were skipped


def official_candidates() -> list[Path]:
    """Folders that may hold the official files, in priority order."""
    found = [Path(p) for p in paths.searched(*OFFICIAL_RELPATHS)]
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:  # where nats_bench itself would look
        found.append(Path(torch_home).expanduser() / OFFICIAL_NAME)
    return found


def resolve(source: str) -> Source:
    """Turn a ``source`` argument into the files to read."""
    if source not in ("auto", "official", "csv"):
        return _resolve_path(Path(source).expanduser())
    notes: list[str] = []
    if source in ("auto", "official"):
        for folder in official_candidates():
            if folder.is_dir():
                _, complete, note = official_status(folder)
                if complete:
                    return Source("official", (folder,), tuple(notes))
                notes.append(note)
    if source in ("auto", "csv"):
        files = [paths.find_data(rel) for rel in CSV_RELPATHS]
        if all(files):
            return Source("csv", tuple(files), tuple(notes))
    raise FileNotFoundError(_not_found_message(source, notes))


def _resolve_path(p: Path) -> Source:
    for folder in (p, p / OFFICIAL_NAME, p / "nats-bench" / OFFICIAL_NAME):
        if (folder / META_FILE).is_file():
            _, complete, note = official_status(folder)
            if not complete:
                raise FileNotFoundError(f"{note}. {HOW_TO_GET}")
            return Source("official", (folder,))
    for folder in (p, p / "nats-bench"):
        files = [folder / Path(rel).name for rel in CSV_RELPATHS]
        if all(f.is_file() for f in files):
            return Source("csv", tuple(files))
    raise FileNotFoundError(
        f"no NATS-Bench topology-space data at {p}: expected an official "
        f"{OFFICIAL_NAME} folder (with {META_FILE}) or the CSVs "
        f"{', '.join(Path(r).name for r in CSV_RELPATHS)}. {HOW_TO_GET}"
    )


def _not_found_message(source: str, notes: Sequence[str]) -> str:
    lines = [f"No NATS-Bench topology-space benchmark data found (source={source!r})."]
    if source in ("auto", "official"):
        lines.append(f"Searched for the official folder {OFFICIAL_NAME}:")
        lines += [f"  {p}" for p in official_candidates()]
    if source in ("auto", "csv"):
        lines.append("Searched for the CSVs:")
        lines += [f"  {p}" for p in paths.searched(*CSV_RELPATHS)]
    lines += [f"Note: {n}" for n in notes]
    lines.append(HOW_TO_GET)
    return "\n".join(lines)
