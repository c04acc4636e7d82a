"""The compiled kernels of the dense event-study engine (transforms/_dense_kernels.c), with a clear error when
the install did not build them.

Why C: the engine's inner loops (Corrado rank sums, window gathers and sums, the abnormal-returns rows, the
tabulated p-values) are per-row work that numpy can only do in many passes over temporaries; compiled, the
small case runs 2-3x faster. A JIT (numba) would have been simpler to ship but costs ~150 MB of resident LLVM,
more than the large case's 1 GB budget spares. setuptools compiles the file when the project is installed
(`uv sync`); it needs a C compiler and the Python headers, nothing else (no numpy headers: arrays arrive through
the buffer protocol).
"""

from __future__ import annotations

try:
    from transforms.event_study import _kernels as kernels
except ImportError as error:  # pragma: no cover - a broken install, not a code path
    raise ImportError(
        "jevons's compiled kernels (transforms/_dense_kernels.c) are not built in this environment: run "
        "`uv sync --reinstall-package jevons` (it needs a C compiler and the Python headers)"
    ) from error

__all__ = ["kernels"]
