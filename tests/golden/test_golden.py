"""Golden numbers: every runs/ config (reduced) and seeded cases give bitwise the stored values.

New arrays in a result (a new record) and new summary entries may appear; every stored one
must keep its bits.
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


def _missing_or_changed(want, got, path=""):
    """Paths of the stored (nested) values that ``got`` lacks or holds differently."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k, v in want.items():
            out += _missing_or_changed(v, got[k], f"{path}.{k}") if k in got else [f"{path}.{k}"]
        return out
    return [] if want == got else [path]


def test_golden_covers_every_case():
    assert sorted(GOLD) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bitwise_unchanged(name):
    got = evaluate(CASES[name])
    want = GOLD[name]
    for point in want:
        changed = _missing_or_changed(want[point]["summary"], got[point]["summary"])
        assert not changed, f"{name} {point} summary: {changed}"
        assert got[point]["dm"] == want[point]["dm"], f"{name} {point} density matrix"
        # every stored array bitwise the same; arrays added later (new records) are allowed
        changed = [k for k, v in want[point]["arrays"].items() if got[point]["arrays"].get(k) != v]
        assert not changed, f"{name} {point}: arrays differ or are missing: {changed}"
