"""zclib.reference: the published numbers load, normalise and filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zclib import reference


@pytest.fixture
def shared_reference(shared_dir, monkeypatch):
    """The real ../shared/reference files (skips when ../shared is absent)."""
    monkeypatch.delenv(reference.ENV_VAR, raising=False)
    if not (shared_dir / "reference" / reference.PUBLISHED).is_file():
        pytest.skip("../shared/reference/published.csv is not present")
    return shared_dir / "reference"


def test_published_loads_the_abdelfattah_table(shared_reference):
    df = reference.published("abdelfattah2021", "table_spearman_nb201")
    assert len(df) == 18
    assert set(df["dataset"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    assert df["metric"].unique().tolist() == ["spearman_all"]
    synflow = df[(df.method == "synflow") & (df.dataset == "cifar10")]
    assert synflow["value"].item() == pytest.approx(0.737)
    # the group's caveat is written once; context carries it to every row
    assert df["context"].notna().all() and df["notes"].isna().any()


def test_published_filters_and_dataset_aliases(shared_reference):
    vote = reference.published(
        "abdelfattah2021", "vote_pairwise_agreement", dataset="CIFAR-10"
    )
    assert vote["value"].item() == pytest.approx(0.817)
    li = reference.published(
        "li2023_zico",
        dataset=["cifar100", "imagenet16-120"],
        metric="kendall_tau",
        method="zico",
    )
    assert sorted(li["exhibit"].unique()) == ["table3_nats_sss", "table3_nats_tss"]
    assert len(li) == 4
    # names that are not datasets (e.g. the abstract's "nb201") stay as written
    abstract = reference.published(exhibit="abstract")
    assert set(abstract["dataset"]) == {"nb201"} == set(abstract["dataset_raw"])
    econas = reference.published(exhibit="fig1_econas_configs")
    assert econas["value"].isna().all()  # configuration rows carry no number


def test_published_wide(shared_reference):
    wide = reference.published_wide("li2023_zico", "table3_nats_tss", "spearman")
    assert wide.columns.tolist() == ["cifar10", "cifar100", "ImageNet16-120"]
    assert wide.loc["zico", "cifar10"] == pytest.approx(0.80)
    with pytest.raises(ValueError, match="metric"):
        reference.published_wide("li2023_zico", "table3_nats_tss")


def test_costs(shared_reference):
    c = reference.costs()
    assert len(c) == 132 and c["params_M"].notna().all()
    assert c["flops_M"].notna().sum() == 12
    assert set(reference.costs("CIFAR-10")["dataset"]) == {"cifar10"}


def test_env_var_folder_wins(tmp_path, monkeypatch):
    (tmp_path / reference.PUBLISHED).write_text(
        "source,exhibit,dataset,metric,method,value,notes\n"
        "me,t1,CIFAR-10,spearman,synflow,0.5,first\n"
        "me,t1,CIFAR-10,spearman,snip,,\n"
    )
    monkeypatch.setenv(reference.ENV_VAR, str(tmp_path))
    df = reference.published("me")
    assert df["dataset"].tolist() == ["cifar10"] * 2
    assert df["dataset_raw"].tolist() == ["CIFAR-10"] * 2
    assert np.isnan(df["value"].iloc[1]) and df["context"].tolist() == ["first"] * 2


def test_missing_reference_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(reference.ENV_VAR, str(tmp_path / "nowhere"))
    monkeypatch.setattr(reference, "DEFAULT_DIR", tmp_path / "also_nowhere")
    with pytest.raises(FileNotFoundError, match=reference.ENV_VAR):
        reference.published()


def test_project_side_published_rows(shared_reference):
    """reference/published_extra.csv joins the shared table, same columns."""
    extra = pd.read_csv(reference.EXTRA)
    df = reference.published()
    assert len(df) == len(pd.read_csv(shared_reference / reference.PUBLISHED)) + len(
        extra
    )
    meco = reference.published(
        "jiang2023_meco", "abstract_tss", dataset="CIFAR-10", method="meco"
    )
    assert meco["value"].item() == pytest.approx(0.89)
    # NAS-Bench-Suite-Zero's Figure 2: 13 proxies x the three NB201 datasets
    nbsz = reference.published_wide(
        "krishnakumar2022_nbsz", "fig2_spearman_nb201", "spearman"
    )
    assert nbsz.shape == (13, 3)
    assert nbsz.loc["l2_norm", "cifar10"] == pytest.approx(0.68)
    assert nbsz.loc["plain", "cifar100"] == pytest.approx(-0.21)
    swap = reference.published("peng2024_swap", metric="spearman")
    assert set(swap["method"]) == {"swap_regularised", "naswot"}
    assert extra["notes"].notna().all()  # every row says what it correlates against
