"""Laws: small immutable objects with named parameters and a pure JAX prediction."""
from .base import REGISTRY, Custom, Law, Param, law_from_name, register
from .loss import Chinchilla, DataConstrained, Kaplan, OverTrain
from .accuracy import ExpErrorLink, SigmoidLink, TwoStepFit, fit_two_step
from .inference import Coverage, PowerNoCeiling, SaturatingSamples, SaturatingTokens
from .joint import JointCoverage, accuracy_model, beta_pass_at_k, fit_joint, loss_params_of
from .width_depth import Split, SplitPoint, WidthDepth, best_split

__all__ = ["Law", "Param", "Custom", "Chinchilla", "Kaplan", "DataConstrained", "OverTrain",
           "REGISTRY", "law_from_name", "register",
           "SigmoidLink", "ExpErrorLink", "TwoStepFit", "fit_two_step",
           "Coverage", "SaturatingSamples", "SaturatingTokens", "PowerNoCeiling",
           "JointCoverage", "fit_joint", "accuracy_model", "loss_params_of", "beta_pass_at_k",
           "WidthDepth", "best_split", "Split", "SplitPoint"]
