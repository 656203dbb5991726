"""The one place that configures JAX for the package.

Every fit runs in float64 (FLOPs exceed 2**63 and the Chinchilla objective
surface is flat enough that float32 stalls), so x64 is switched on when the
package is imported, before any array is created.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

__all__ = ["jax", "jnp"]
