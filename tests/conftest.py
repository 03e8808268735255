"""Test-session settings.

The small dense matrices of the density-matrix tests run fastest single-threaded, and the
MPI tests start several processes on a 2-core machine: one BLAS thread per process avoids
oversubscription.  Set before numpy is imported by any test module.

``tests/`` is put on ``sys.path`` so every test file can ``import cases`` (shared test data).
"""

import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
