"""FactsBatcher on a real store: an idle lookup runs in its caller's task, concurrent ones
share the next query, and every answer is read after its request arrived."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from proxy.errors import StoreUnavailable
from proxy.model import RecipientFacts, SuppressionOrigin
from proxy.store import Store
from proxy.store.batching import FactsBatcher

pytestmark = pytest.mark.postgres

PEOPLE = [f"person{n}@firm.example" for n in range(8)]


class Recorded:
    """The store's loader, noting each batch it was given and the task that asked."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches: list[list[str]] = []
        self.tasks: list[asyncio.Task[object] | None] = []
        self.fail = False

    async def __call__(self, addresses: Sequence[str]) -> dict[str, RecipientFacts]:
        self.batches.append(list(addresses))
        self.tasks.append(asyncio.current_task())
        if self.fail:
            await asyncio.sleep(0)  # as a database does, answers after a round trip
            raise StoreUnavailable("loading recipient facts: the database is gone")
        return await self.store.load_recipient_facts(addresses)


async def test_an_idle_lookup_runs_in_its_callers_task(store: Store) -> None:
    loader = Recorded(store)
    batcher = FactsBatcher(loader)
    await store.add_suppression(address=PEOPLE[0], origin=SuppressionOrigin.PAGE)

    facts = await batcher.load([PEOPLE[0], PEOPLE[1], PEOPLE[0]])

    assert set(facts) == {PEOPLE[0], PEOPLE[1]}
    assert len(facts[PEOPLE[0]].suppressions) == 1 and facts[PEOPLE[1]].suppressions == ()
    assert loader.batches == [[PEOPLE[0], PEOPLE[1]]]
    assert loader.tasks == [asyncio.current_task()]


async def test_lookups_arriving_during_a_load_share_the_next_one(store: Store) -> None:
    loader = Recorded(store)
    batcher = FactsBatcher(loader)
    await store.add_suppression(address=PEOPLE[3], origin=SuppressionOrigin.MAILTO)

    answers = await asyncio.gather(*(batcher.load([person]) for person in PEOPLE))

    assert [list(answer) for answer in answers] == [[person] for person in PEOPLE]
    assert [bool(a[p].suppressions) for a, p in zip(answers, PEOPLE, strict=True)] == [
        p == PEOPLE[3] for p in PEOPLE
    ]
    assert loader.batches == [PEOPLE[:1], PEOPLE[1:]]
    # The same batcher is idle again afterwards: the next lookup runs in its caller's task.
    await batcher.load([PEOPLE[0]])
    assert loader.tasks[-1] is asyncio.current_task()


async def test_a_queued_lookup_sees_what_was_written_before_it_arrived(store: Store) -> None:
    loader = Recorded(store)
    batcher = FactsBatcher(loader)
    first = asyncio.create_task(batcher.load([PEOPLE[0]]))
    await asyncio.sleep(0)  # the first load is under way (in its task)
    await store.add_suppression(address=PEOPLE[1], origin=SuppressionOrigin.ONE_CLICK)
    queued = await batcher.load([PEOPLE[1]])
    await first
    assert [entry.origin for entry in queued[PEOPLE[1]].suppressions] == [
        SuppressionOrigin.ONE_CLICK
    ]


async def test_a_failure_reaches_every_waiter_and_the_batcher_recovers(store: Store) -> None:
    loader = Recorded(store)
    batcher = FactsBatcher(loader)
    loader.fail = True
    results = await asyncio.gather(
        *(batcher.load([person]) for person in PEOPLE[:3]), return_exceptions=True
    )
    assert [type(result) for result in results] == [StoreUnavailable] * 3
    assert len(loader.batches) == 2  # the first alone, the two queued behind it together
    loader.fail = False
    assert list(await batcher.load([PEOPLE[0]])) == [PEOPLE[0]]


async def test_a_cancelled_caller_does_not_strand_the_lookups_behind_it(store: Store) -> None:
    loader = Recorded(store)
    batcher = FactsBatcher(loader)
    first = asyncio.create_task(batcher.load([PEOPLE[0]]))
    await asyncio.sleep(0)  # its load is under way
    queued = asyncio.create_task(batcher.load([PEOPLE[1]]))
    await asyncio.sleep(0)
    first.cancel()
    assert list(await queued) == [PEOPLE[1]]
    assert first.cancelled()
    assert loader.batches == [[PEOPLE[0]], [PEOPLE[1]]]
