"""``python -m coachbot.afterack``: started by ``coachbot serve``'s master (not by hand);
reads its settings, the socket's address and key, and its parent's pid from stdin."""

from __future__ import annotations

import logging
import pickle
import sys

from coachbot.afterack.runner import lower_priority, serve


def main() -> None:
    # Lower the priority first: threads started later (the pool's, the database driver's) inherit it.
    lower_priority()
    config, address, parent = pickle.loads(sys.stdin.buffer.read())
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from coachbot.app import create_after_ack_runtime

    shared, close = create_after_ack_runtime(config)
    try:
        serve(address, shared, parent=parent)
    finally:
        close()


if __name__ == "__main__":
    main()
