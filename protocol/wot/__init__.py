"""The web of trust's distance rule, and the live graph a state keeps for it."""

from protocol.wot.distance import DistanceEvaluator, DistanceResult, evaluate_distance, sentry_threshold
from protocol.wot.graph import DistanceCheck, WebOfTrust

__all__ = [
    "DistanceCheck",
    "DistanceEvaluator",
    "DistanceResult",
    "WebOfTrust",
    "evaluate_distance",
    "sentry_threshold",
]
