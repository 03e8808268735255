"""Test-session settings.

The small dense matrices of the density-matrix tests run fastest single-threaded, and the
MPI tests start several processes on a 2-core machine: one BLAS thread per process avoids
oversubscription.  Set before numpy is imported by any test module.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
