"""Write tests/data/golden.json from the current code (run only when numbers change on purpose).

python tests/golden/make_golden.py
"""

import json
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as tests/conftest.py: the same BLAS summation order
sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_cases import GOLDEN, cases, evaluate  # noqa: E402

if __name__ == "__main__":
    data = {name: evaluate(raw) for name, raw in cases().items()}
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN} ({len(data)} cases)")
