"""Laws: small immutable objects with named parameters and a pure JAX prediction."""
from .base import REGISTRY, Custom, Law, Param, law_from_name, register
from .loss import Chinchilla, DataConstrained, Kaplan, OverTrain

__all__ = ["Law", "Param", "Custom", "Chinchilla", "Kaplan", "DataConstrained", "OverTrain",
           "REGISTRY", "law_from_name", "register"]
