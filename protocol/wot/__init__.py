"""The web of trust's distance rule."""

from protocol.wot.distance import DistanceEvaluator, DistanceResult, evaluate_distance, sentry_threshold

__all__ = ["DistanceEvaluator", "DistanceResult", "evaluate_distance", "sentry_threshold"]
