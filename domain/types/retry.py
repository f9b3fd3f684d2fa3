"""Retry policy: exponential backoff with full jitter, capped."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Delay before retry number `attempt` (1-based): uniform in [base*2^(n-1)/2, base*2^(n-1)], capped.

    Half-jitter keeps a floor (no instant hammering) while spreading retries of many jobs apart.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
