"""Benchmarks for coachbot, each one command run from the repository root.

* ``python -m bench.ack_latency``: slash-command ack latency, coachbot versus a bare Bolt app.
* ``python -m bench.footprint``: start-up time and resident memory of ``coachbot serve``.

See ``docs/benchmarks.md`` for what each measures and the figures so far.
"""
