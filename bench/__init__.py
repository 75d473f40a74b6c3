"""Benchmarks for coachbot, each one command run from the repository root.

* ``python -m bench.time_to_visible``: from ``/prep leadership`` to the card, coachbot versus two Bolt baselines.
* ``python -m bench.durability``: a job worker SIGKILLed while it holds jobs; every reply once?
* ``python -m bench.footprint``: start-up time and resident memory of ``coachbot serve``.

See ``docs/benchmarks.md`` for what each measures and the figures so far.
"""
