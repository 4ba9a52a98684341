"""Heavy views take turns on the node's event loop.

Trio runs, in each turn of its loop, every task that is ready; a view that reads and decodes a
hundred blocks, or scans thousands, does it in chunks with a checkpoint between them, but if many
such views are ready at once, one turn of the loop runs a chunk of each of them. Such long turns
starve the rest of the node, and the server's own accept loop, which takes one new connection per
turn: under a flood of heavy requests the node could then neither accept nor refuse the others
(measured: 1,000 requests for 100-block pages gave answers after 30 s or more, and time-outs).

So before each chunk a heavy view waits for its turn (`await take_turn()`): the views line up, one
chunk runs per turn of the loop whatever their number, and in between the loop accepts, answers
refusals and runs the node. The chunk is the code from `take_turn()` to the view's next `await`.
One line for the whole process, so the nodes of a devnet, on one loop, share it too."""

import trio

_LINE = trio.Lock()


async def take_turn() -> None:
    """Wait until the heavy views ahead have run a chunk each (at least one checkpoint)."""
    async with _LINE:
        pass
