"""Rank statistics for zero-cost proxies: correlations, bootstrap CIs, pairwise votes.

    from zclib import stats
    stats.correlation_table(scores, bench["test_acc"].to_numpy(), ["synflow", "snip"])

Pure numpy/scipy/pandas, vectorised so that the full NAS-Bench-201 space
(15,625 architectures, 122M pairs) is handled exactly in seconds:

* :func:`spearman`, :func:`kendall`, :func:`pearson`: ``(rho, n_used)`` with
  non-finite pairs dropped and counted.
* :func:`correlation_table`: one row per proxy, optionally on the top fraction of
  architectures by accuracy (Abdelfattah et al.'s "top-10%").
* :func:`bootstrap_ci` / :func:`paired_bootstrap`: percentile bootstrap over
  architectures; Spearman is re-ranked within every resample without sorting it;
  :func:`ci_verdict` reads a paired difference's interval (beats / ties / loses to).
* :func:`vote_agreement` / :func:`vote_score`: Abdelfattah et al.'s ``vote``
  (majority of synflow, jacob_cov and snip) as a pairwise agreement fraction, and
  as a per-architecture Copeland score usable for ranking.
* :func:`rank_by` / :func:`topk_overlap`: ranks by one proxy, top-k overlap.

Alignment rule, everywhere: ``acc`` is matched to ``scores`` by position. A
pandas Series whose index differs from ``scores.index`` raises, rather than being
silently misaligned; pass ``.to_numpy()`` once the rows are known to match.

Modules: :mod:`.core` (finite pairs, one statistic, alignment, member signs, the
block size), :mod:`.correlation`, :mod:`.bootstrap`, :mod:`.vote`, :mod:`.ranking`.
"""

from zclib.stats import bootstrap, core, correlation, ranking, vote
from zclib.stats.bootstrap import bootstrap_ci, ci_verdict, paired_bootstrap
from zclib.stats.core import STATS
from zclib.stats.correlation import (
    correlation_table,
    kendall,
    pearson,
    spearman,
    top_mask,
)
from zclib.stats.ranking import rank_by, topk_overlap
from zclib.stats.vote import VOTE_MEMBERS, VOTE_RULES, vote_agreement, vote_score

__all__ = [
    "STATS",
    "VOTE_MEMBERS",
    "VOTE_RULES",
    "bootstrap",
    "bootstrap_ci",
    "ci_verdict",
    "core",
    "correlation",
    "correlation_table",
    "kendall",
    "paired_bootstrap",
    "pearson",
    "rank_by",
    "ranking",
    "spearman",
    "top_mask",
    "topk_overlap",
    "vote",
    "vote_agreement",
    "vote_score",
]
