"""The supervisor with real worker processes (tiny Python programs standing in for `serve`)."""

from __future__ import annotations

import sys

from proxy.supervisor import Supervisor, bind_listeners


async def test_a_worker_that_cannot_start_stops_the_others_with_its_exit_code() -> None:
    listeners = bind_listeners({"smtp": ("127.0.0.1", 0)})
    code = await Supervisor(2, [sys.executable, "-c", "raise SystemExit(3)"], listeners).run()
    assert code == 3
    assert listeners["smtp"].fileno() == -1  # closed: nobody is left to accept
