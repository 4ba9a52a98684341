"""Serving the API with hypercorn's trio worker inside the node's nursery."""

from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from node.api.submit import MAX_BODY


async def serve_api(app: Any, bind: str, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Serve `app` on `bind` (`host:port`, port 0 for any) until cancelled; report the bound
    URLs (`http://host:port`) through `task_status`."""
    config = Config()
    config.bind = [bind]
    config.accesslog = None
    config.errorlog = None
    config.h11_max_incomplete_size = MAX_BODY
    config.graceful_timeout = 1.0
    await serve(app, config, task_status=task_status)
