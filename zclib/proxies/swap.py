"""swap (Peng et al., ICLR 2024, SWAP-NAS): Sample-Wise Activation Patterns.

    python -m zclib score --proxies swap --n 10 --out /tmp/s.csv

Forward batch 0 (train mode); concatenate every ReLU module's output, flattened per
sample, into an (N, D) matrix, binarise it (``sign``: 1 where a unit is on); the
SWAP-score is the number of distinct *columns*, i.e. of distinct on/off vectors of
a unit over the N samples. Reference: pym1024/SWAP ``src/metrics/swap.py``
(``SampleWiseActivationPatterns.calSWAP``: transpose to (neurons, samples),
``torch.unique(dim=0)``; hooks on ``nn.ReLU`` outputs). Computed in the shared
forward from the ReLU hooks (pass quantity ``relu_patterns``), so a fused or
packed pass serves it with naswot at no extra forward. Labels are not used.

Deviation: the paper's *regularised* score multiplies this count by
``exp(-(params_k - μ)^2 / σ)`` with a μ, σ chosen per search space; we ship the
plain SWAP-score only (its published NB201 value is for the regularised one: see
``reference/published_extra.csv``). Invariant to the order of the batch's samples:
a permutation of the samples permutes every column the same way, so the count of
distinct columns is unchanged (tested).
"""

from zclib.proxies.registry import proxy


@proxy(
    "swap",
    needs={"relu_patterns"},
    output="scalar",
    uses_labels=False,
    reference="pym1024/SWAP src/metrics/swap.py calSWAP (regular=False)",
)
def swap(p):
    """Distinct sample-wise ReLU patterns of batch 0."""
    return float(p["relu_patterns"])
