"""Work that follows an acknowledgement, run in a process of its own at a lower CPU priority.

Why a process: a slash command is acknowledged at once and answered through its
response_url afterwards (a question picked and remembered, a card rendered and posted).
Done inside the web worker, that work shares the worker's GIL and the machine's cores
with the next requests' acknowledgements, which Slack needs within 3 seconds, and under
load the acks queue behind it. So ``coachbot serve`` starts one after-ack process beside
its web workers, at the lowest priority (``NICENESS``): the workers hand it each job over
a local socket and go back to acknowledging. Under a burst a reply may wait; an
acknowledgement does not.

- ``jobs``: a job is a module-level function and its arguments, pickled; the objects that
  belong to one process (the services with their database engine, the Slack client)
  travel as names and each process puts in its own.
- ``wire``: length-prefixed frames on a Unix socket in a private directory, after the
  connecting side proves it knows a random key.
- ``handoff``: the web worker's side, an ``Executor``.
- ``runner``: the after-ack process's side.
- ``supervisor``: the master's side: start, watch, restart, stop.

Nothing is lost for want of the process: a job that can't be handed over (the process is
starting, restarting, stuck or gone) runs in the web worker, as it did before. A job
already handed over is lost if the after-ack process dies before running it (an
ephemeral reply the person can ask for again).
"""

from __future__ import annotations

from coachbot.afterack.handoff import RECONNECT_AFTER_S, Handoff
from coachbot.afterack.jobs import dumps, loads, run_job
from coachbot.afterack.runner import NICENESS, Runner, lower_priority, serve
from coachbot.afterack.supervisor import Supervisor
from coachbot.afterack.wire import Address

__all__ = ["Address", "Handoff", "NICENESS", "RECONNECT_AFTER_S", "Runner", "Supervisor", "dumps", "loads",
           "lower_priority", "run_job", "serve"]
