"""How fast items are created through the model path: `bench.run.creation_figure` alone,
without the rest of the benchmark. Not part of the test suite.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dwgk_write_small \\
        .venv/bin/python -m bench.create_items [--items 2000]

The database must hold generated data (`manage.py migrate` then
`manage.py generate_province --preset small`): the template item is picked as bench/run.py
picks it (the newest published public item of the organization with the most). The created
items are removed at the end, as in the full run.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000, help="items to create (2000)")
    parser.add_argument("--creators", type=int, default=2, help="processes at once (2)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        print("set DATABASE_URL to a database built by generate_province", file=sys.stderr)
        return 2

    from bench.run import Subjects, busiest_public_item, creation_figure, server_environment

    # The benchmark server's settings (production ones, DEBUG off), as bench.run uses.
    os.environ.update(server_environment(os.environ["DATABASE_URL"], secrets.token_urlsafe(50)))
    import django

    django.setup()
    busiest = busiest_public_item()
    if busiest is None:
        print("nothing is disclosed to the public: generate_province first", file=sys.stderr)
        return 2
    item_id = busiest[2]
    figure = creation_figure(Subjects(item_id=item_id), args.items, args.creators)

    print(f"python {platform.python_version()}, {os.cpu_count()} cpu(s), template item {item_id}")
    print(
        f"one creator: {figure['timed_items']} timed items, "
        f"{figure['one_creator_items_per_s']} items/s "
        f"({figure['ms_per_item']} ms per item, CPU {figure['cpu_ms_per_item']} ms)"
    )
    together = figure["concurrent"]
    if together:
        print(
            f"{together['creators']} creators at once: {together['items']} items in "
            f"{together['seconds']} s = {together['items_per_s']} items/s"
        )
    print(f"queries per item: {figure['queries_per_item']}")
    phases = ", ".join(f"{k} {v:.3f}" for k, v in figure["phase_ms_per_item"].items())
    print(f"ms per item by phase: {phases}")
    if hasattr(os, "getloadavg"):
        print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
