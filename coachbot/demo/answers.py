"""What the people of the demo write: real answers to the scripted morning's prompt.

The daily prompt's question is not random: the app picks it from the bank,
seeded by the channel and the day, so the demo's Monday always brings the
same one (``QUESTION_ID``) while the bank stays as it is. The answers below
were written for it; a bank with more or fewer technical questions brings
another, and the demo says so and stops.
"""

from __future__ import annotations

QUESTION_ID = "technical-knowledge-027"  # what exactly-once processing means in a stream processor

BEN = (
    "Exactly-once means every event changes the result once, even though the system may deliver it more than "
    "once. Crashes and lost acknowledgements make redelivery unavoidable, so the guarantee is really "
    "at-least-once delivery plus effects that cannot be applied twice. There are two ways to get there: make "
    "the write idempotent, such as an upsert keyed by the event id, so a duplicate overwrites itself; or commit "
    "the output and the consumer's position together in one transaction, so a crash rolls back both and the "
    "replay starts from a consistent point.\n\n"
    "In my last job we ran Kafka consumers that wrote order totals to PostgreSQL. We stored each partition's "
    "offset in the same database transaction as the totals and, on start-up, seeked to the stored offset "
    "instead of trusting the one committed to Kafka. That gave us exactly-once effects inside the database. "
    "The trade-off was throughput, so we batched 500 events per transaction. The guarantee stopped at our "
    "boundary: emails went out from an outbox table with a unique key per order."
)

DEV = (
    "Under the hood the difference between at-least-once and exactly-once is what happens after a crash. A "
    "consumer that processes an event and dies before recording its progress sees that event again, so "
    "duplicates are normal, and exactly-once is a promise about the visible result, not about delivery. Kafka "
    "gets there with idempotent producers and transactions that write the output records and the consumer "
    "offsets atomically; Flink takes consistent checkpoints of its state and the source offsets, and its "
    "two-phase commit sinks publish output only when a checkpoint completes.\n\n"
    "We use Flink for billing aggregates, with a checkpoint every 30 seconds. The cost is latency, because "
    "results become visible only at a checkpoint, and transactional sinks are slower than at-least-once ones. "
    "Calls outside the pipeline, such as to a payment API, are not covered; for those we send an idempotency "
    "key derived from the event id."
)

CHLOE = (
    "Exactly-once processing is a guarantee about effects: each input event is reflected in the output one "
    "time, even if it is delivered several times. Exactly-once delivery over an unreliable network is "
    "impossible, because a sender that gets no acknowledgement cannot tell a lost message from a lost reply, "
    "so it has to send again. What systems achieve is effectively-once: at-least-once delivery combined with "
    "deduplication or atomic commits.\n\n"
    "The recipe: give every event a stable id, make each write idempotent or store the processed ids with the "
    "result, and commit the consumer offset in the same transaction as the output. The costs are storage for "
    "the deduplication keys, slower transactional commits, and side effects outside the system, like sending "
    "a text message, which still need their own idempotency key on the receiving side."
)
