"""Laws: small immutable objects with named parameters and a pure JAX prediction (formulas only)."""
from .._numerics import beta_pass_at_k
from .base import REGISTRY, Custom, Law, Param, law_from_name, register
from .loss import Chinchilla, DataConstrained, Kaplan, OverTrain
from .links import ExpErrorLink, SigmoidLink
from .coverage import Coverage, PowerNoCeiling, SaturatingSamples, SaturatingTokens
from .joint import JointCoverage
from .width_depth import WidthDepth
from .voting import MajorityVote
from .architecture import ArchitectureConditional, AspectRatio, ParallelScaling
from .vocabulary import Vocabulary
from .moe import FineGrainedMoE, MixtureOfExperts

__all__ = ["Law", "Param", "Custom", "Chinchilla", "Kaplan", "DataConstrained", "OverTrain",
           "REGISTRY", "law_from_name", "register",
           "SigmoidLink", "ExpErrorLink",
           "Coverage", "SaturatingSamples", "SaturatingTokens", "PowerNoCeiling",
           "JointCoverage", "beta_pass_at_k", "WidthDepth", "MajorityVote",
           "ArchitectureConditional", "AspectRatio", "ParallelScaling",
           "Vocabulary", "MixtureOfExperts", "FineGrainedMoE"]
