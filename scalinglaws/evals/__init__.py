"""Evaluations of inference: pass@k estimation, beta-binomial coverage models, aggregation of
per-sample logs, per-model comparison of inference curves, and the "does more test-time compute
still pay?" ceiling check. The matching laws (Coverage, SaturatingSamples, SaturatingTokens,
PowerNoCeiling) live in :mod:`scalinglaws.laws.coverage`."""

from .ceiling import CeilingReport, ceiling_check
from .compare import MarginalGain, ModelComparison, ModelCurve, PaysMore, compare_models
from .passk import BetaFit, Curves, SampleSummary, aggregate_samples, fit_beta_binomial, pass_at_k

__all__ = ["compare_models", "ModelComparison", "ModelCurve", "MarginalGain", "PaysMore", "pass_at_k", "BetaFit",
           "fit_beta_binomial", "aggregate_samples", "SampleSummary", "Curves", "ceiling_check", "CeilingReport"]
