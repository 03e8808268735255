"""Golden numbers: every runs/ config (reduced) and seeded cases give bitwise the stored values.

A change that means to alter numbers (a new estimator, say) regenerates
``tests/data/golden.json`` with ``python tests/golden/make_golden.py`` in the same commit
and says why in the commit message.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_cases import cases, evaluate, load_golden  # noqa: E402

CASES = cases()
GOLD = load_golden()


def test_golden_covers_every_case():
    assert sorted(GOLD) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bitwise_unchanged(name):
    got = evaluate(CASES[name])
    want = GOLD[name]
    for point in want:
        assert got[point]["summary"] == want[point]["summary"], f"{name} {point} summary"
        assert got[point]["dm"] == want[point]["dm"], f"{name} {point} density matrix"
        assert got[point]["arrays"] == want[point]["arrays"], f"{name} {point} array bits"
