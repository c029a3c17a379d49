"""Abdelfattah et al.'s ``vote`` (majority of synflow, jacob_cov and snip), exactly.

    from zclib import stats
    stats.vote_agreement(scores, acc)["vote"]  # fraction of pairs ordered right
    stats.vote_score(scores)  # per-architecture Copeland score, rankable

:func:`vote_agreement` is the pairwise agreement fraction (exact over all 122M
pairs of the space, in row blocks of int8 votes); :func:`vote_score` the
per-architecture Copeland score usable for ranking.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from zclib.stats import core
from zclib.stats.core import acc_array, member_directions

VOTE_MEMBERS = ("synflow", "jacob_cov", "snip")  # Abdelfattah et al.'s vote
VOTE_RULES = ("majority", "abdelfattah")


def _vote_inputs(
    scores: pd.DataFrame, acc, members: Sequence[str], directions, drop_nan: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(kept rows mask, oriented member scores (k, m), accuracies (m,), n_nan)."""
    members = list(members)
    missing = [m for m in members if m not in scores.columns]
    if missing:
        raise KeyError(f"vote members {missing} not in scores columns")
    dirs = member_directions(members, directions)
    # orient every member so that higher means "predicted better"
    s = scores[members].to_numpy(dtype=np.float64).T * dirs[:, None]  # (k, n)
    y = acc_array(acc, scores)
    finite_s = np.isfinite(s).all(axis=0)
    keep = np.isfinite(y) & (finite_s if drop_nan else True)
    n_nan = int((np.isfinite(y) & ~finite_s).sum())
    return keep, s[:, keep], y[keep], n_nan


def _pair_counts(ai, aj, si, sj, rule: str, mask=None) -> np.ndarray:
    """Counts over a block of architecture pairs (i, j), i and j broadcast.

    Args:
        ai, aj: accuracies of i and j (broadcastable, e.g. (r, 1) and (1, c)).
        si, sj: oriented member scores, shape (k, ...) broadcastable likewise.
        rule: see :func:`vote_agreement`.
        mask: optional bool array of the pairs to count (others ignored).

    Returns:
        int64 array [n_pairs, vote_right, member_1_right, ..., member_k_right].
    """
    better = ai > aj  # accuracy says i is better
    worse = ai < aj
    if mask is not None:
        better &= mask
        worse &= mask
    k = si.shape[0]
    gt = [si[m] > sj[m] for m in range(k)]  # member m says i is better
    lt = [si[m] < sj[m] for m in range(k)]
    n_better, n_worse = np.count_nonzero(better), np.count_nonzero(worse)
    if rule == "majority":
        # unordered pairs; a member tie abstains; an undecided vote disagrees
        votes = np.zeros(better.shape, dtype=np.int8)
        for g, lo in zip(gt, lt, strict=True):
            votes += g.view(np.int8)
            votes -= lo.view(np.int8)
        right = np.count_nonzero((votes > 0) & better) + np.count_nonzero(
            (votes < 0) & worse
        )
        member_right = [
            np.count_nonzero(g & better) + np.count_nonzero(lo & worse)
            for g, lo in zip(gt, lt, strict=True)
        ]
        return np.array([n_better + n_worse, right, *member_right], dtype=np.int64)
    # "abdelfattah": both ordered pairs (i, j) and (j, i); a member votes "first is
    # better" only on a strictly positive difference (ties and NaN vote against);
    # "first is better" wins with at least half the members, so never undecided.
    n_pos_ij = np.zeros(better.shape, dtype=np.int8)
    n_pos_ji = np.zeros(better.shape, dtype=np.int8)
    for g, lo in zip(gt, lt, strict=True):
        n_pos_ij += g.view(np.int8)
        n_pos_ji += lo.view(np.int8)

    def right_both(plus_ij, plus_ji) -> int:
        # (i, j) is right if plus_ij == better, (j, i) if plus_ji == worse; the
        # "minus" votes are counted as n_worse - (plus & worse), etc.
        return (
            np.count_nonzero(plus_ij & better)
            - np.count_nonzero(plus_ij & worse)
            + np.count_nonzero(plus_ji & worse)
            - np.count_nonzero(plus_ji & better)
            + n_better
            + n_worse
        )

    right = right_both(2 * n_pos_ij >= k, 2 * n_pos_ji >= k)
    member_right = [right_both(g, lo) for g, lo in zip(gt, lt, strict=True)]
    return np.array([2 * (n_better + n_worse), right, *member_right], dtype=np.int64)


def vote_agreement(
    scores: pd.DataFrame,
    acc,
    members: Sequence[str] = VOTE_MEMBERS,
    directions=None,
    max_pairs: int | None = None,
    seed: int = 0,
    rule: str = "majority",
) -> dict:
    """Fraction of architecture pairs whose accuracy order the members' vote gets right.

    Abdelfattah et al.'s ``vote`` statistic (0.817 on NB201 CIFAR-10): for a pair
    of architectures, each member proxy (oriented by its direction) says which is
    better; the pair counts as right when the majority agrees with the accuracy
    order. Pairs tied in accuracy are skipped. Two rules:

    * ``"majority"`` (default): unordered pairs i < j, architectures with any NaN
      member score dropped (their pairs excluded); a member tie is no vote; the
      majority is the sign of (votes for i - votes for j), and an undecided
      majority (e.g. 1-1 with one abstention) counts as disagreeing.
    * ``"abdelfattah"``: the released notebook's loop exactly: ordered pairs
      (i, j), i != j; a member votes "i better" iff its difference is > 0 (ties
      and NaN count as "j better"); "i better" wins if at least half the members
      say so. NaN scores are kept. On tie-free, NaN-free data both rules agree.

    Exact over all pairs by default: rows are processed in blocks, the upper
    triangle only, with int8/bool arrays (a few seconds for 15,625 archs). With
    ``max_pairs`` smaller than the number of pairs, that many random pairs
    (i != j, with replacement, seeded) are evaluated instead.

    Args:
        scores: one row per architecture with the member columns.
        acc: accuracies matched by position; non-finite accuracies are dropped.
        members: proxy columns that vote.
        directions: +1/-1 per member (mapping or sequence); None: the registry's.
        max_pairs: optional number of sampled pairs instead of all pairs.
        seed: seed of the pair sampler.
        rule: ``"majority"`` or ``"abdelfattah"``.

    Returns:
        dict: ``vote`` (the agreement fraction), one entry per member (the same
        fraction for that member alone, on the same pairs and rule), ``n_pairs``
        (pairs counted: unordered for "majority", ordered for "abdelfattah"),
        ``n_used`` (architectures), ``n_nan`` (architectures with a NaN member
        score: dropped under "majority", kept under "abdelfattah"), ``exact``.
    """
    if rule not in VOTE_RULES:
        raise ValueError(f"unknown rule {rule!r}; expected one of {VOTE_RULES}")
    members = list(members)
    _, s, y, n_nan = _vote_inputs(
        scores, acc, members, directions, drop_nan=rule == "majority"
    )
    n = y.size
    total_pairs = n * (n - 1) // 2
    exact = max_pairs is None or max_pairs >= total_pairs
    if exact:
        counts = np.zeros(2 + len(members), dtype=np.int64)
        rows = max(1, min(n, core.BLOCK // max(n, 1)))
        upper = ~np.tri(rows, dtype=bool)  # j > i inside a diagonal block
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            r = stop - start
            # block: rows [start, stop) x columns [start, n); keep j > i only
            mask = np.ones((r, n - start), dtype=bool)
            mask[:, :r] = upper[:r, :r]
            counts += _pair_counts(
                y[start:stop, None],
                y[None, start:],
                s[:, start:stop, None],
                s[:, None, start:],
                rule,
                mask,
            )
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, size=max_pairs)
        j = rng.integers(0, n, size=max_pairs)
        # "majority" is symmetric in (i, j) and "abdelfattah" evaluates both orders
        # of each drawn pair, so the order of a draw does not matter
        keep = i != j
        i, j = i[keep], j[keep]
        counts = np.zeros(2 + len(members), dtype=np.int64)
        for st in range(0, i.size, core.BLOCK):
            a, b = i[st : st + core.BLOCK], j[st : st + core.BLOCK]
            counts += _pair_counts(y[a], y[b], s[:, a], s[:, b], rule)
    n_pairs = int(counts[0])

    def frac(c) -> float:
        return float(c / n_pairs) if n_pairs else math.nan

    out = {"vote": frac(counts[1])}
    out.update({m: frac(c) for m, c in zip(members, counts[2:], strict=True)})
    out.update(
        {"n_pairs": n_pairs, "n_used": int(n), "n_nan": n_nan, "exact": bool(exact)}
    )
    return out


def vote_score(
    scores: pd.DataFrame, members: Sequence[str] = VOTE_MEMBERS, directions=None
) -> pd.Series:
    """Copeland score of the members' majority vote: a rankable "vote" proxy.

    For each architecture, the fraction of the other scored architectures that it
    beats by majority vote of the members (each oriented by its direction; a
    member tie abstains; an undecided vote is not a win). It is relative to the
    scored set: adding or removing architectures changes every value, so compare
    scores only within one table. Computed exactly in row blocks (upper triangle,
    int8 votes), ~seconds for 15,625 architectures.

    Args:
        scores: one row per architecture with the member columns.
        members: proxy columns that vote.
        directions: +1/-1 per member (mapping or sequence); None: the registry's.

    Returns:
        Series indexed like ``scores`` (name ``"vote"``), in [0, 1]; NaN where any
        member score is NaN (those architectures take no part in the vote).
    """
    members = list(members)
    dirs = member_directions(members, directions)
    s_all = scores[members].to_numpy(dtype=np.float64).T * dirs[:, None]  # (k, n)
    keep = np.isfinite(s_all).all(axis=0)
    s = s_all[:, keep]
    n = s.shape[1]
    wins = np.zeros(n, dtype=np.int64)
    rows = max(1, min(n, core.BLOCK // max(n, 1)))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        votes = np.zeros((stop - start, n - start), dtype=np.int8)
        for m in range(s.shape[0]):
            a, b = s[m, start:stop, None], s[m, None, start:]
            votes += (a > b).view(np.int8)
            votes -= (a < b).view(np.int8)
        # row i's wins over every column j >= start (the diagonal block holds both
        # orders of its pairs, so rows count them all); columns after the block get
        # their wins over these rows from the antisymmetry votes[j, i] = -votes[i, j]
        wins[start:stop] += np.count_nonzero(votes > 0, axis=1)
        wins[stop:] += np.count_nonzero(votes[:, stop - start :] < 0, axis=0)
    out = np.full(len(scores), np.nan)
    out[keep] = wins / (n - 1) if n > 1 else np.nan
    return pd.Series(out, index=scores.index, name="vote")
