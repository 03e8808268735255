"""`trajmaser fuel`: pe and Tq/Tb of the spin-star or spin-S fuel."""

from __future__ import annotations

import json
import math


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fuel",
        help="central-spin fuel: pe and Tq/Tb",
        description=(
            "Excited population pe and temperature Tq/Tb = -omega/ln(pe/(1-pe)) of the central "
            "spin of a spin-star (N outer spins-1/2) or of a spin-1/2 coupled to one spin "
            "S = N/2, in the thermal state at Tb (exact block solution).  pe > 1/2 means "
            "population inversion (negative Tq), pe = 1/2 an infinite Tq."
        ),
    )
    p.add_argument("--model", choices=("star", "spin"), default="star", help="fuel model (star)")
    p.add_argument(
        "--N",
        default="10",
        help="number of outer spins (S = N/2): one value '10', a list '1,2,5' "
        "or an inclusive range '1..10' (default 10)",
    )
    p.add_argument("--omega", type=float, default=6.0, help="Bohr frequency, units of Tb (6)")
    p.add_argument("--J", type=float, default=0.8, help="spin-spin coupling, units of Tb (0.8)")
    p.add_argument("--lam", type=float, default=1.0, help="anisotropy lambda (1)")
    p.add_argument("--Tb", type=float, default=1.0, help="bath temperature (1)")
    p.add_argument(
        "--json",
        action="store_true",
        help='machine-readable output: {"model", "N", "pe", "Tq_over_Tb", "inverted"} for one N, '
        "a JSON list of such objects for several N.  An infinite Tq (pe = 1/2) is written as "
        'null (JSON has no Infinity) and a "note" field explains it and any inversion',
    )
    p.set_defaults(func=run)


def run(args) -> int:

    from trajmaser.config import parse_range
    from trajmaser.fuel import fuel
    from trajmaser.params import FuelParams

    def parse_n(text: str) -> list[int]:
        allowed = "N must be integers >= 0: '10', '1,2,5' or an inclusive range '1..10'"
        values: list[int] = []
        try:
            for item in text.split(","):
                if ".." in item:
                    values.extend(parse_range(item))
                else:
                    values.append(int(item))
        except ValueError:
            raise ValueError(f"{allowed}; got {text!r}") from None
        if not values or min(values) < 0:
            raise ValueError(f"{allowed}; got {text!r}")
        return values

    pars = {"omega": args.omega, "J": args.J, "lam": args.lam, "Tb": args.Tb}
    results = [fuel(FuelParams(model=args.model, N=n, **pars)) for n in parse_n(args.N)]
    if args.json:
        rows = []
        for r in results:
            tq = r.tq_over_tb if math.isfinite(r.tq_over_tb) else None
            row = {"model": r.model, "N": r.N, "pe": r.pe, "Tq_over_Tb": tq, "inverted": r.inverted}
            if r.note:
                row["note"] = r.note
            rows.append(row)
        print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2, allow_nan=False))
        return 0
    print(
        f"{args.model} model: omega = {args.omega:g}, J = {args.J:g}, lam = {args.lam:g}, "
        f"Tb = {args.Tb:g} (omega and J in units of Tb)"
    )
    print(f"{'N':>7} {'S':>7} {'pe':>14} {'Tq/Tb':>12}  note")
    for r in results:
        print(f"{r.N:>7d} {r.N / 2:>7g} {r.pe:>14.8g} {r.tq_over_tb:>12.6g}  {r.note}".rstrip())
    return 0
