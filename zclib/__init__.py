"""zclib: training-free NAS on NATS-Bench (NAS-Bench-201)."""

__version__ = "0.1.0"
