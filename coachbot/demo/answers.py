"""What the people of the demo write: real answers to the scripted morning's prompt.

The daily prompt's question is not random: the app picks it from the bank,
seeded by the channel and the day, so the demo's Monday always brings the
same one (``QUESTION_ID``). The answers below were written for it.
"""

from __future__ import annotations

QUESTION_ID = "technical-knowledge-020"  # sync vs async replication, and failover for a primary database

BEN = (
    "Synchronous replication means the primary waits until at least one replica has written the change before it "
    "confirms the commit. A failover then loses nothing, but every write pays a network round trip, and writes "
    "stall if that replica is slow. Asynchronous replication confirms as soon as the primary has the change: "
    "writes stay fast, but replicas lag behind, reads from them can be stale, and a failover can lose the last "
    "few seconds of commits. So the real trade-off is how much data you may lose versus write latency.\n\n"
    "For failover I would keep one synchronous standby in another zone and asynchronous replicas for reads. A "
    "consensus-based manager detects that the primary is down, and only the node holding the leader lock may "
    "promote itself, which avoids split brain. The old primary is fenced before the new one takes writes, and "
    "clients connect through a proxy that follows the leader. In my last job we ran exactly this on PostgreSQL "
    "with Patroni and etcd: failover took about 30 seconds with no data loss, and we tested it every month by "
    "killing the primary in staging."
)

DEV = (
    "Under the hood the difference is when the primary acknowledges a commit. With synchronous replication it "
    "waits for a replica to confirm, so a committed write always exists in two places; with asynchronous "
    "replication it answers at once and ships the log afterwards. I would use synchronous replication for "
    "payments and orders, where losing a committed write is unacceptable, and asynchronous replicas for "
    "analytics, where a few seconds of lag do no harm. The downside of synchronous is that a dead replica blocks "
    "every write, so I would name two candidate standbys and wait for either one.\n\n"
    "For failover, a health check alone is not enough: two nodes could both decide they are the primary. I "
    "would use a lease in a consensus store so only one node can hold the primary role, and fence the old one "
    "by revoking its lease and cutting it off from clients. We use this in production with MySQL semi-synchronous "
    "replication and Orchestrator."
)

CHLOE = (
    "Replication copies every write from the primary to one or more replicas, and the choice is about when the "
    "commit is confirmed. Synchronous is a promise of zero data loss on failover, at the cost of a round trip "
    "on each write and of depending on the replica being up. Asynchronous is fast, but replicas lag, so reads "
    "can be stale and a failover can drop recent commits.\n\n"
    "My failover design: a quorum of watchers decides the primary is gone rather than a single health check, "
    "the most up-to-date replica is promoted, the old primary is fenced so it cannot accept writes when it "
    "comes back, and clients move over through a DNS name or a proxy. I would state the targets up front: with "
    "a synchronous standby the recovery point objective is zero, and the recovery time objective is the "
    "detection timeout plus the promotion, well under a minute."
)
