"""Atomic writes (zclib.fileio.atomic_path): a failed write leaves the old file."""

from __future__ import annotations

import pandas as pd
import pytest

from zclib import fileio


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "sub" / "t.parquet"
    fileio.write_parquet_atomic(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(RuntimeError), fileio.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert fileio.read_parquet(target)["a"].tolist() == [1]
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.parquet"]
    fileio.write_text_atomic("x", tmp_path / "n.txt")
    assert (tmp_path / "n.txt").read_text() == "x"
