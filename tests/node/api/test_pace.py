"""Heavy views take turns: one chunk of theirs per turn of the event loop, however many there are."""

from collections.abc import Awaitable, Callable

import trio

from node.api.pace import take_turn


class Turns(trio.abc.Instrument):
    """Counts the turns of trio's loop: each waits for I/O, then runs the tasks that are ready."""

    def __init__(self) -> None:
        self.count = 0

    def after_io_wait(self, timeout: float) -> None:
        self.count += 1


async def turns_of_chunks(take: Callable[[], Awaitable[None]], views: int = 5, chunks: int = 10) -> list[int]:
    """The loop turn in which each chunk of `views` views ran, each chunk after `take()`."""
    turns = Turns()
    ran: list[int] = []

    async def view() -> None:
        for _ in range(chunks):
            await take()
            ran.append(turns.count)  # the chunk

    trio.lowlevel.add_instrument(turns)
    try:
        async with trio.open_nursery() as nursery:
            for _ in range(views):
                nursery.start_soon(view)
    finally:
        trio.lowlevel.remove_instrument(turns)
    return ran


async def test_one_chunk_per_turn_of_the_loop() -> None:
    ran = await turns_of_chunks(take_turn)
    assert len(ran) == 50 and len(set(ran)) == 50


async def test_without_turns_chunks_pile_up_in_one_turn() -> None:
    ran = await turns_of_chunks(trio.lowlevel.checkpoint)
    assert len(set(ran)) <= 11  # five chunks a turn
