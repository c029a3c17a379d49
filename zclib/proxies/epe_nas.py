"""epe_nas (Lopes et al. 2021, EPE-NAS): per-class correlation of input Jacobians.

    python -m zclib score --proxies epe_nas --n 10 --out /tmp/s.csv

J = d(sum of logits)/dx per sample (the shared ``input_jac``, as jacob_cov), one row
per sample. The rows are grouped by label; for each class c with its rows J_c,
``s_c = sum_ij log(|corrcoef(J_c)_ij| + k)``, k = 1e-5. With n_classes <= 100 logits
the score is ``sum_c |s_c|``; with more, ``s_c`` is divided by the class's sample
count and the score is ``sum_{c, c'} |s_c - s_c'| / (number of classes scored)``.
Reference: NASLib ``naslib/predictors/pruners/measures/epe_nas.py``
(``eval_score_perclass``, from the authors' ``search.py``), reproduced including
its edge cases: a class seen once contributes ``log(1 + k)`` when n_classes <= 100
(``corrcoef`` of one row is 1) and is skipped when n_classes > 100 (the reference's
``len()`` of that 0-d result raises and its ``except`` skips the class); a NaN
correlation (constant Jacobian rows) makes the score NaN.

Deliberate deviation: a batch in which no label repeats (the ImageNet16-120 stand-in
has one image per class, so a batch of 64 holds 64 classes once each) gives every
network the reference's score 0 when n_classes > 100, which ranks nothing. There we
score the whole batch as one group instead: ``|s| / N`` with ``s`` the sum above over
the (N x N) correlation of all rows (the per-class formula of n_classes > 100 for a
single group of N samples, without the pairwise difference that would be 0).
"""

import numpy as np

from zclib.proxies.passes import numpy_f64
from zclib.proxies.registry import proxy

K = 1e-5
MANY_CLASSES = 100  # more logits than this: the reference's normalised variant (A)


def class_score(rows: np.ndarray, k: float = K) -> float:
    """``sum log(|corrcoef(rows)| + k)`` of one group's (n, D) Jacobian rows."""
    with np.errstate(all="ignore"):
        return float(np.sum(np.log(np.abs(np.corrcoef(rows)) + k)))


def eval_score(
    jacob: np.ndarray, labels: np.ndarray, n_classes: int, k: float = K
) -> float:
    """EPE-NAS score of a (N, D) Jacobian matrix with labels (see module doc).

    Args:
        jacob: one row per sample.
        labels: (N,) integer labels.
        n_classes: the network's number of logits (selects the variant).
        k: the reference's constant inside the log.

    Returns:
        The score (NaN if a class's correlation is NaN).
    """
    many = n_classes > MANY_CLASSES
    scores = []
    for c in np.unique(labels):  # sorted: the sums below do not depend on order
        rows = jacob[labels == c]
        if len(rows) == 1:
            if not many:
                scores.append(float(np.log(1.0 + k)))
            continue
        s = class_score(rows, k)
        scores.append(s / len(rows) if many else s)
    if many and not scores:  # no repeated label: the deviation of the module doc
        return abs(class_score(jacob, k)) / len(jacob)
    s = np.asarray(scores, dtype=np.float64)
    if not many:
        return float(np.sum(np.abs(s)))
    return float(np.sum(np.abs(s[:, None] - s[None, :])) / len(s))


@proxy(
    "epe_nas",
    needs={"input_jac", "logits"},
    output="scalar",
    reference="NASLib measures/epe_nas.py eval_score_perclass",
)
def epe_nas(p):
    """EPE-NAS of the input Jacobian of batch 0, grouped by batch 0's labels."""
    jac = p["input_jac"]
    labels = p.batches[0][1].detach().cpu().numpy()
    n_classes = int(p["logits"].shape[-1])
    return eval_score(numpy_f64(jac.reshape(jac.shape[0], -1)), labels, n_classes)
