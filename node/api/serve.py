"""Serving the API with hypercorn's trio worker inside the node's nursery."""

import logging
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

#: Seconds a client may take to send its request (a slow sender holds a connection, not the node).
READ_TIMEOUT = 30
#: Connections the kernel queues before they are accepted: a burst of clients connecting at once
#: is accepted and answered (a 429 or a 503 from the app's flood limits at worst) rather than left
#: to retry its connection; hypercorn's own default (100) is smaller than a busy tiers-lieu's burst.
BACKLOG = 1024


async def serve_api(
    app: Any,
    bind: str,
    *,
    shutdown: trio.Event | None = None,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` on `bind` (`host:port`, port 0 for any free one; the node's default is on
    127.0.0.1) until `shutdown` is set (requests under way finish, within a second) or the task is
    cancelled; reports the bound URLs (`http://host:port`) through `task_status`."""
    config = Config()
    config.bind = [bind]
    config.backlog = BACKLOG
    config.accesslog = None
    config.errorlog = logging.getLogger("node.api")
    config.graceful_timeout = 1.0
    config.read_timeout = READ_TIMEOUT
    config.include_server_header = False
    await serve(
        app, config, shutdown_trigger=None if shutdown is None else shutdown.wait, task_status=task_status
    )
