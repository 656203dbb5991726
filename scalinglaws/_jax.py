"""The one place that configures JAX for the package.

Every computation of the package runs in float64 (FLOPs exceed 2**63 and the Chinchilla
objective surface is flat enough that float32 stalls). Importing the package does **not**
switch the whole process to float64: each public entry point runs under
``jax.enable_x64(True)`` (the :func:`x64` decorator), a thread-local context, so a user's
other JAX code keeps its own precision. A user calling a law's ``predict`` directly on their
own JAX arrays should wrap the call in :func:`float64` (``with sl.float64(): ...``) or switch on
``jax_enable_x64`` themselves.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import jax
import jax.numpy as jnp

__all__ = ["jax", "jnp", "x64", "float64", "enable_compilation_cache"]


def float64():
    """A context in which JAX computes in float64 (``jax.enable_x64(True)``)."""
    return jax.enable_x64(True)


def x64(fn):
    """Run ``fn`` with JAX in float64, without changing the process-wide setting."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if jax.config.jax_enable_x64:
            return fn(*args, **kwargs)
        with jax.enable_x64(True):
            return fn(*args, **kwargs)
    return wrapper


_CACHE_DONE = False


def enable_compilation_cache() -> str | None:
    """Switch on JAX's persistent compilation cache, so that a second process compiles nothing.

    The cache lives in ``$SCALINGLAWS_CACHE_DIR``, else ``$XDG_CACHE_HOME/scalinglaws/jax``,
    else ``~/.cache/scalinglaws/jax``. ``SCALINGLAWS_NO_CACHE=1`` turns it off. A cache
    directory the user configured for JAX already is left alone. Returns the directory used,
    or None.
    """
    global _CACHE_DONE
    if _CACHE_DONE:
        return jax.config.jax_compilation_cache_dir or None
    _CACHE_DONE = True
    if os.environ.get("SCALINGLAWS_NO_CACHE", "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    base = os.environ.get("SCALINGLAWS_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".cache") / "scalinglaws" / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(path)

