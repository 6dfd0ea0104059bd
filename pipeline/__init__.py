"""costledger: an exact, per-model cost ledger for AI models on cloud and owned GPUs."""

from __future__ import annotations

__version__ = "0.1.0"
