"""``dealgraph synth``: write synthetic deal CSVs (:mod:`dealgraph.loaders.synth` generates them)."""

from __future__ import annotations

import time

import click

from dealgraph.loaders.synth import write


@click.command("synth")
@click.option("--deals", "n_deals", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Number of deals.")
@click.option("--entities", "n_entities", type=click.IntRange(min=20), default=None,
              help="Number of entities [default: deals / 5].")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same files).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Directory for entities.csv and deals.csv.")
def synth_command(n_deals, n_entities, seed, out_dir):
    """Write realistic synthetic deal CSVs (power-law hubs, round trips, partial dates)."""
    from dealgraph.cli.common import in_existing_dir

    in_existing_dir(out_dir, "-o/--out", file=False)
    t0 = time.perf_counter()
    n_entities = n_entities or max(20, n_deals // 5)
    ep, dp = write(out_dir, n_deals, n_entities, seed)
    click.echo(f"wrote {n_entities:,} entities to {ep} and {n_deals:,} deals to {dp} "
               f"in {time.perf_counter() - t0:.1f} s (seed {seed})")
