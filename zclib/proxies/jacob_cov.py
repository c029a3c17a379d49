"""jacob_cov (Mellor et al. 2020 v1, as in Abdelfattah et al. 2021).

    python -m zclib score --proxies jacob_cov --n 10 --out /tmp/s.csv

J = d(sum of logits)/dx per sample, flattened to (N, C*H*W); C = corrcoef(J)
(N x N); score = -sum_i [log(v_i + k) + 1/(v_i + k)] over the eigenvalues v of C,
k = 1e-5. Reference: foresight ``measures/jacob_cov.py`` (``get_batch_jacobian``,
``eval_score``). Deviation: the reference calls ``np.linalg.eig``; C is symmetric,
so we use ``eigvalsh`` (same eigenvalues, always real). A degenerate Jacobian
(e.g. constant rows) gives NaN, as in the reference's ``except`` branch.
Labels are not used.
"""

import numpy as np

from zclib.proxies.passes import numpy_f64
from zclib.proxies.registry import proxy

K = 1e-5


def eval_score(jacob: np.ndarray, k: float = K) -> float:
    """The correlation-eigenvalue score of a (N, D) Jacobian matrix."""
    with np.errstate(all="ignore"):
        corrs = np.corrcoef(jacob)
        if not np.isfinite(corrs).all():
            return float("nan")
        v = np.linalg.eigvalsh(corrs)
        return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


@proxy(
    "jacob_cov",
    needs={"input_jac"},
    output="scalar",
    uses_labels=False,
    reference="foresight compute_jacob_cov",
)
def jacob_cov(p):
    """Score of the input Jacobian of batch 0."""
    jac = p["input_jac"]
    return eval_score(numpy_f64(jac.reshape(jac.shape[0], -1)))
