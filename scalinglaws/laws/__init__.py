"""Laws: small immutable objects with named parameters and a pure JAX prediction."""
from .base import REGISTRY, Custom, Law, Param, law_from_name, register
from .loss import Chinchilla, DataConstrained, Kaplan, OverTrain
from .accuracy import ExpErrorLink, SigmoidLink, TwoStepFit, fit_two_step
from .inference import Coverage, PowerNoCeiling, SaturatingSamples, SaturatingTokens

__all__ = ["Law", "Param", "Custom", "Chinchilla", "Kaplan", "DataConstrained", "OverTrain",
           "REGISTRY", "law_from_name", "register",
           "SigmoidLink", "ExpErrorLink", "TwoStepFit", "fit_two_step",
           "Coverage", "SaturatingSamples", "SaturatingTokens", "PowerNoCeiling"]
