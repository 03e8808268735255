"""Census of hostile inputs and faults through the trajmaser CLI, written to docs/RELIABILITY.md.

Draws cases from the generators of ``tests/robustness`` (configs, options, broken result
files and checkpoints, valid physics with checked answers) plus the named inputs of the
hostile-user review, runs each as ``python -m trajmaser.cli`` in its own process group with a
hard timeout, and counts per class: clear errors, tracebacks, hangs, silent acceptance of
nonsense, refusals of valid input, wrong answers and lost work.  Then the fault scenarios
(unwritable output, full disk, concurrent runs, killed writes) and the latency of SIGTERM,
SIGINT and SIGUSR1 delivered inside a long compiled block, serially and on 2 MPI ranks.

    PYTHONPATH=$PWD python benchmarks/reliability_report.py            # a few minutes
    PYTHONPATH=$PWD python benchmarks/reliability_report.py --examples 40 --jobs 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "robustness")]

import fuzz_faults  # noqa: E402
from fuzz_configs import CONFIG_STRATEGIES  # noqa: E402
from fuzz_exec import FAILURES, VERDICTS, Outcome, run_case, run_cli  # noqa: E402
from fuzz_files import broken_checkpoints, broken_results, make_artifacts  # noqa: E402
from fuzz_options import dm_options, fuel_options, result_options, run_options  # noqa: E402
from fuzz_physics import valid_physics  # noqa: E402
from fuzz_probes import config_probes, file_probes, option_probes  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from trajmaser import io  # noqa: E402

SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")
CLASSES = {
    "config: extreme numbers": "numeric keys at 0, ±1, denormals, 710, 1e300, 10**15, ±inf, nan, "
    "or any float/int",
    "config: wrong types": "strings, booleans, arrays, tables, dates where numbers or names go",
    "config: missing/unknown keys": "dropped keys and tables, unknown keys and tables, a table "
    "given as a scalar, top-level keys, empty tables",
    "config: initial field": "`initial` strings: valid kinds, bad numbers, unknown kinds, text",
    "config: sweeps": "`[sweep]` keys (valid, bare, unknown) and values (lists, ranges up to 1e8 "
    "points, zero or negative steps, scalars)",
    "config: file bytes": "BOM, CRLF, truncation, random bytes, NUL, Latin-1, UTF-16, empty",
    "options: run / dm / fuel / compare / summary": "every option of the subcommand with "
    "nonsense, extreme and valid values; outputs that are directories, 255/300-character "
    "names, unwritable paths",
    "files: broken result": "`summary`/`compare` on truncated, empty, random, flipped, "
    "metadata-less or array-less result files, sweep files and checkpoints",
    "files: broken checkpoint": "a resuming `run` whose checkpoint is corrupt, foreign or a "
    "result file (with and without `--restart`)",
    "physics: valid inputs": "valid models across κτ ≤ 10³, g, γ, detuning, baths, pump "
    "statistics and initial fields; the run is compared with the density matrix",
    "issue 11 probes": "the named inputs of the review",
    "faults: work lost": "the scenarios below",
}


def draw(strategy, n: int, root_seed: int) -> list:
    """``n`` examples of a hypothesis strategy (distinct where hypothesis finds them)."""
    found = []

    @seed(root_seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case):
        if case not in found:
            found.append(case)

    collect()
    return found[:n]


def all_cases(n: int, root_seed: int, artifacts: dict) -> list:
    cases = config_probes() + option_probes() + file_probes(artifacts)
    strategies = dict(CONFIG_STRATEGIES)
    strategies.update(
        {
            "options: run": run_options(),
            "options: dm": dm_options(),
            "options: fuel": fuel_options(),
            "options: summary/compare": result_options(artifacts["result"]),
            "files: broken result": broken_results(artifacts),
            "files: broken checkpoint": broken_checkpoints(artifacts),
        }
    )
    for strategy in strategies.values():
        cases += draw(strategy, n, root_seed)
    cases += draw(valid_physics(), n, root_seed)
    return cases


KNOWN_LIMITS = (
    "The dense density-matrix reference is slow for `omega < 0.2` with a thermal initial "
    "field (hundreds of Fock levels, O(nmax³)); the physics generator draws `omega ≥ 0.2`.",
    "There is no continuous-time density-matrix series for `poisson` pumping with a coherent "
    "initial field; the generator does not draw that pair.",
    "The poisson reference of `compare` (a delay equation with dense exponentials of size "
    "~5 nmax) takes about 1.5 min for a hot bath (n_b = 5, nmax ≈ 240); the generator draws "
    "n_b ≤ 1 with poisson pumping.",
    "The planner does not price cavity jumps: a trajectory draws about (κ/r)(1 + 2 n_b)"
    "(1 + n_b) jumps per atom one by one, so κ/r ~ 10⁴ with a warm bath (or κτ ~ 100) runs "
    "for minutes while the plan says seconds; the generator keeps that below 200 jumps per "
    "atom.  The kernels poll the cancel flag per trajectory and every 65536 passages, not "
    "per jump, so a signal waits for the current trajectory's jumps.",
    "`compare` leaves out the steady blocks (with a warning) when the density matrix has "
    "no steady state within 300 photons (e.g. an inverted medium that masers); the series "
    "are still compared.",
    "Initial fields are capped at 1e6 photons on average, N at 1e7 spins and a `[sweep]` at "
    "10,000 points (each point is validated on loading, about 2 ms a point).",
)


def run_all(cases: list, jobs: int, timeout: float, scratch: Path) -> list[Outcome]:
    def one(item):
        i, case = item
        if case.timeout <= 30:  # the generators' default; longer ones are deliberate
            case = dataclasses.replace(case, timeout=timeout)
        outcome = run_case(case, scratch / f"case{i:04d}")
        shutil.rmtree(scratch / f"case{i:04d}", ignore_errors=True)
        mark = "." if not outcome.failed else outcome.verdict[0].upper()
        print(mark, end="", flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(one, enumerate(cases)))
    print()
    return outcomes


def run_faults(scratch: Path) -> list[tuple[str, str, str, float]]:
    rows = []
    for name, scenario in fuzz_faults.SCENARIOS.items():
        work = Path(tempfile.mkdtemp(dir=scratch))
        t0 = time.monotonic()
        verdict, detail = scenario(work)
        rows.append((name, verdict, detail, time.monotonic() - t0))
        print(f"  {name}: {verdict} {detail[:100]}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def run_signals(scratch: Path, ranks_list: list[int], passages: int) -> list[dict]:
    """Latency of each signal inside a block; SIGTERM runs are resumed and compared."""
    ref_dir = Path(tempfile.mkdtemp(dir=scratch))
    startup = run_cli(["fuel"], ref_dir).elapsed  # starting the CLI, no blocks
    t0 = time.monotonic()
    ref = fuzz_faults.reference(ref_dir, passages=passages)
    block_s = (time.monotonic() - t0 - startup) / fuzz_faults.LONG_BLOCKS
    rows = []
    for ranks in ranks_list:
        for signame in SIGNALS:
            work = Path(tempfile.mkdtemp(dir=scratch))
            hit = fuzz_faults.interrupt_inside_block(work, ranks, signame, passages=passages)
            row = {
                "ranks": ranks,
                "signal": signame,
                "exit": hit.returncode,
                "latency_s": round(hit.latency, 2),
                "into_block_s": hit.into_block,
                "block_s": round(block_s, 1),
                "blocks_kept": hit.checkpoint_blocks,
                "resumed_equal": None,
            }
            if signame == "SIGTERM" and hit.returncode == 99:
                rc, err = fuzz_faults.resume(work, ranks)
                diffs = io.compare_results(ref, work / "out.npz") if rc == 0 else [err[-200:]]
                row["resumed_equal"] = not diffs
            rows.append(row)
            print(f"  {row}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
    return rows


# ---------------------------------------------------------------- report
def cause_key(o: Outcome) -> str:
    if o.verdict in ("traceback", "hang"):
        return re.sub(r"after \d+ s ", "", o.detail)
    if o.verdict == "silently accepted":
        return re.sub(r"^(run|dm): ", "", o.case.what)
    text = re.sub(r"(.)\1{9,}", r"\1…", o.detail)  # e.g. a 255-character file name
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    return re.sub(r"[-+]?\d[\d.]*(e[-+]?\d+)?", "#", text)[:160]


#: Columns shown even when empty: the verdicts the census exists to count.
ALWAYS = tuple(v for v in VERDICTS if v not in ("vague error", "refused valid input", "crash"))


def summary_line(outcomes: list[Outcome], faults: list) -> str:
    """One line of the counts that must be zero."""
    total = Counter(o.verdict for o in outcomes) + Counter(v for _, v, _, _ in faults)
    failed = sum(n for v, n in total.items() if v in FAILURES)
    return (
        f"**{sum(total.values())} cases and faults: {total['ok']} ok, {total['clear error']} "
        f"clear errors; tracebacks {total['traceback']}, hangs {total['hang']}, silent wrong "
        f"answers {total['silently accepted'] + total['wrong answer']}, work lost "
        f"{total['work lost']}; {failed} failures of any kind.**"
    )


def census_table(outcomes: list[Outcome], faults: list) -> list[str]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        counts[o.case.cls][o.verdict] += 1
    for _, verdict, _, _ in faults:
        counts["faults: work lost"][verdict] += 1
    cols = [v for v in VERDICTS if v in ALWAYS or any(c[v] for c in counts.values())]
    cols += ["skipped"] if counts["faults: work lost"]["skipped"] else []
    lines = ["| class | cases | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
    total = Counter()
    for cls in sorted(counts):
        c = counts[cls]
        total.update(c)
        lines.append(f"| {cls} | {sum(c.values())} | " + " | ".join(str(c[v]) for v in cols) + " |")
    lines.append(
        f"| **all** | **{sum(total.values())}** | "
        + " | ".join(f"**{total[v]}**" for v in cols)
        + " |"
    )
    return lines


def causes_table(outcomes: list[Outcome]) -> list[str]:
    groups: dict[tuple, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.failed:
            groups[(o.verdict, cause_key(o))].append(o)
    lines = ["| verdict | cause | cases | first input |", "|---|---|---:|---|"]
    order = {v: i for i, v in enumerate(reversed(VERDICTS))}
    for (verdict, key), group in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        first = group[0].case.what.replace("|", "\\|")[:120]
        lines.append(f"| {verdict} | {key.replace('|', '/')} | {len(group)} | {first} |")
    if not groups:
        lines.append("| - | none: every case was ok or a clear error | 0 | - |")
    return lines


def signal_table(rows: list[dict]) -> list[str]:
    head = (
        "| ranks | signal | exit | latency (s) | block (s) | blocks kept | resume = uninterrupted |"
    )
    lines = [head, "|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        same = "-" if r["resumed_equal"] is None else ("yes" if r["resumed_equal"] else "NO")
        lines.append(
            f"| {r['ranks']} | {r['signal']} | {r['exit']} | {r['latency_s']} | {r['block_s']} "
            f"| {r['blocks_kept']} | {same} |"
        )
    return lines


def write_report(path: Path, args, outcomes, faults, signals, elapsed: float) -> None:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "trajmaser"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    load = os.getloadavg()[0]
    out = [
        "# Reliability census",
        "",
        "Hostile inputs and faults through the `trajmaser` command line.  Each case runs as",
        "`python -m trajmaser.cli` in its own process group under a 4 GiB memory limit; a case",
        f"still running after {args.timeout:g} s that has used half of that in CPU time (or",
        f"after {3 * args.timeout:g} s in any case) is a *hang*: its Python stack is dumped, then",
        "it gets SIGTERM and, 3 s later, SIGKILL.  The cases come from the hypothesis generators",
        "of `tests/robustness/` plus the named inputs of the hostile-user review (class",
        "*issue 11 probes*); `benchmarks/reliability_report.py` writes this file.",
        "",
        f"Code: commit `{commit}`{' with local changes' if dirty else ''}; {len(outcomes)} "
        f"cases, {args.examples} drawn per generator (seed {args.seed}), {args.jobs} at a time; "
        f"{elapsed / 60:.1f} min on {os.cpu_count()} cores (load average {load:.1f}).",
        "",
        "Verdicts: *ok* (ran, and the answer passed its check where there is one), *clear error*",
        "(exit 2, a message, no traceback), *vague error* (exit 2 without naming the file or the",
        "fix), *silently accepted* (nonsense, yet an answer), *refused valid input*, *wrong",
        "answer* (atoms simulated ≠ atoms × ntraj, inversion flag ≠ sign of Tq, or trajectories",
        "vs density matrix |z| ≥ 5), *traceback*, *crash* (another exit status), *hang*, *work",
        "lost* (computed, then the result could not be kept, or litter left behind).",
        "",
        "| class | what is generated |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in CLASSES.items()),
        "",
        "## Counts per class",
        "",
        summary_line(outcomes, faults),
        "",
        *census_table(outcomes, faults),
        "",
        "## Faults around a run",
        "",
        "| scenario | verdict | detail | time (s) |",
        "|---|---|---|---:|",
        *(f"| {n} | {v} | {d.replace('|', '/')[:200]} | {t:.1f} |" for n, v, d, t in faults),
        "",
        "## Signals inside a long block",
        "",
        f"A run of {fuzz_faults.LONG_BLOCKS} blocks of {args.block_passages:.0e} atom passages "
        "(one compiled call per block;",
        "*block* is the measured length of one) is signalled 1 s after its first checkpoint",
        "appears, inside a later block; *latency* is signal to exit.  SIGTERM runs are then",
        "resumed and compared bit for bit with an uninterrupted run",
        "(`trajmaser.io.compare_results`).",
        "",
        *signal_table(signals),
        "",
        "## Every cause of a failure (deduplicated)",
        "",
        *causes_table(outcomes),
        "",
        "## Known limits",
        "",
        *(f"- {text}" for text in KNOWN_LIMITS),
        "",
        "## Regenerate",
        "",
        "```sh",
        "PYTHONPATH=$PWD python benchmarks/reliability_report.py          # this file",
        "PYTHONPATH=$PWD python benchmarks/reliability_report.py --examples 40 --json census.json",
        "PYTHONPATH=$PWD python -m pytest -q tests/robustness              # the CI part",
        "```",
        "",
    ]
    path.write_text("\n".join(out))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=int, default=5, help="cases drawn per generator (5)")
    p.add_argument("--seed", type=int, default=2026, help="hypothesis seed (2026)")
    p.add_argument("--jobs", type=int, default=2, help="cases run at a time (2)")
    p.add_argument("--timeout", type=float, default=20.0, help="hang timeout per case, s (20)")
    p.add_argument("--out", default=str(REPO / "docs" / "RELIABILITY.md"), help="report file")
    p.add_argument("--json", metavar="FILE", help="also write every outcome as JSON")
    p.add_argument(
        "--only",
        metavar="REGEX",
        help="run only the cases whose 'class: input' matches (to recheck a fix)",
    )
    p.add_argument("--no-faults", action="store_true", help="skip the fault scenarios")
    p.add_argument("--no-signals", action="store_true", help="skip the signal latencies")
    p.add_argument("--ranks", default="1,2", help="signal runs on these rank counts (1,2)")
    p.add_argument(
        "--block-passages",
        type=int,
        default=100_000_000,
        help="atom passages per block of the signal runs (1e8, as the tests)",
    )
    args = p.parse_args(argv)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="trajmaser-census-") as tmp:
        scratch = Path(tmp)
        print("making a result, a sweep result and a checkpoint", flush=True)
        artifacts = make_artifacts(scratch / "artifacts")
        cases = all_cases(args.examples, args.seed, artifacts)
        if args.only:
            cases = [c for c in cases if re.search(args.only, f"{c.cls}: {c.what}")]
        print(f"running {len(cases)} cases", flush=True)
        outcomes = run_all(cases, args.jobs, args.timeout, scratch)
        faults = [] if args.no_faults else run_faults(scratch)
        ranks = [int(r) for r in args.ranks.split(",")] if shutil.which("mpiexec") else [1]
        signals = [] if args.no_signals else run_signals(scratch, ranks, args.block_passages)
    write_report(Path(args.out), args, outcomes, faults, signals, time.monotonic() - t0)
    if args.json:
        rows = [
            {
                "class": o.case.cls,
                "input": o.case.what,
                "argv": list(o.case.argv)[:12],
                "verdict": o.verdict,
                "detail": o.detail,
                "exit": o.ran.returncode,
                "seconds": round(o.ran.elapsed, 2),
            }
            for o in outcomes
        ]
        Path(args.json).write_text(
            json.dumps({"cases": rows, "faults": faults, "signals": signals}, indent=1)
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
