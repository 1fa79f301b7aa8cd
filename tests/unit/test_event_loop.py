"""runtime.event_loop: which loop `serve` runs on."""

from __future__ import annotations

import asyncio

import uvloop

from proxy.app import event_loop_factory
from proxy.settings import EventLoop


def _loop_type(choice: EventLoop) -> type[asyncio.AbstractEventLoop]:
    loop = event_loop_factory(choice)()
    try:
        return type(loop)
    finally:
        loop.close()


def test_asyncio_choice_gives_the_standard_loop() -> None:
    assert not issubclass(_loop_type(EventLoop.ASYNCIO), uvloop.Loop)


def test_auto_and_uvloop_choices_give_uvloop_when_installed() -> None:
    assert issubclass(_loop_type(EventLoop.AUTO), uvloop.Loop)
    assert issubclass(_loop_type(EventLoop.UVLOOP), uvloop.Loop)
