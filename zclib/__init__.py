"""zclib: training-free NAS on NATS-Bench (NAS-Bench-201)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``zclib.score`` (:func:`zclib.score_model.score`), imported on first use so
    that ``import zclib`` does not import torch."""
    if name == "score":
        from zclib.score_model import score  # noqa: PLC0415 (lazy: torch)

        return score
    raise AttributeError(f"module 'zclib' has no attribute {name!r}")
