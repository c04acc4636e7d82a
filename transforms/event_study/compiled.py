"""The loader of the event-study engine's compiled kernels (transforms/event_study/kernels/*.c, built into the one
extension module transforms.event_study._kernels), with a clear error when the install did not build them.

Why C: the engine's inner loops (scatter and gather, estimation sums and CAR windows, Corrado rank sums,
Kolari-Pynnönen group sums, group statistics, tabulated p-values, the abnormal-returns rows) are per-row work that
numpy can only do in many passes over temporaries. A JIT (numba) would have been simpler to ship, but its LLVM's
resident memory does not fit beside the large case's 1 GB budget. setuptools compiles the files when the project
is installed (`uv sync`); it needs a C compiler and the Python headers, nothing else (no numpy headers: arrays
arrive through the buffer protocol).
"""

from __future__ import annotations

try:
    from transforms.event_study import _kernels as kernels
except ImportError as error:  # pragma: no cover - a broken install, not a code path
    raise ImportError(
        "jevons's compiled kernels (transforms/event_study/kernels/*.c) are not built in this environment: run "
        "`uv sync --reinstall-package jevons` (it needs a C compiler and the Python headers)"
    ) from error

__all__ = ["kernels"]
