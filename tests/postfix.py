"""A private Postfix instance on loopback ports, for the MTA-chain tests and bench/relay_bench.py.

Everything lives under one temporary root (configuration, queue, data, log): the instance
listens on 127.0.0.1 only, resolves nothing through DNS, delivers nothing locally and logs to
ROOT/maillog. Needs root, like the Debian package it comes from: Postfix's master runs as
root and drops to `mail_owner`. The setup is synchronous (the benchmark is a plain script);
`start_postfix` / `stop_postfix` drive it from a test's event loop without blocking it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port
from tests.waiting import wait_until

__all__ = [
    "POSTFIX",
    "PostfixInstance",
    "main_cf",
    "new_root",
    "prepare",
    "private_postfix",
    "start_postfix",
    "stop_postfix",
]

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"
COMMAND_TIMEOUT = 60.0  # seconds for one postfix command

# One line per service: chroot off (the private queue directory has no copy of /etc), only
# what relaying and bouncing need, smtpd on a loopback port instead of *:25.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def main_cf(root: Path, hostname: str = "postfix.test", **parameters: str) -> str:
    """main.cf of an instance under `root`; `parameters` add to or override the base
    (relayhost, transport_maps, myorigin, in_flow_delay ...)."""
    values = {
        "compatibility_level": "3.6",
        "myhostname": hostname,
        "mydomain": hostname,
        "queue_directory": f"{root}/queue",
        "data_directory": f"{root}/data",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mydestination": "",
        "mynetworks": "127.0.0.0/8",
        "maillog_file": f"{root}/maillog",
        "maillog_file_prefixes": str(root),
        "smtp_dns_support_level": "disabled",
        "smtpd_peername_lookup": "no",
        "alias_maps": "",
        "alias_database": "",
        **parameters,
    }
    return "".join(f"{name} = {value}".rstrip() + "\n" for name, value in values.items())


def new_root(prefix: str = "prospect-relay-postfix-") -> Path:
    """A fresh root directory. Not under pytest's tmp_path: that is 0700 root, and Postfix's
    daemons open their data and log files as `mail_owner`, who must traverse the path."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return root


def prepare(root: Path, port: int, config: str) -> Path:
    """Write `config` as main.cf and a master.cf with smtpd on 127.0.0.1:`port`, create the
    queue and data directories; the configuration directory to pass to `postfix -c`."""
    if os.geteuid() != 0:
        raise AssertionError("a private Postfix instance needs root: its master runs as root")
    conf = root / "conf"
    conf.mkdir(parents=True)
    (root / "queue").mkdir()
    (root / "data").mkdir()
    shutil.chown(root / "data", user="postfix")
    (conf / "main.cf").write_text(config)
    (conf / "master.cf").write_text(MASTER_CF.format(port=port))
    return conf


async def _run(*args: str) -> str:
    """Run a Postfix command without blocking the loop the relay and the sink live in."""
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{' '.join(args)} failed ({process.returncode}): {text}"
    return text


@dataclass
class PostfixInstance:
    root: Path
    port: int

    @property
    def config(self) -> Path:
        return self.root / "conf"

    @property
    def maillog(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else "(no maillog)"

    async def flush(self) -> None:
        await _run(POSTQUEUE, "-c", str(self.config), "-f")


async def start_postfix(root: Path, port: int, config: str) -> PostfixInstance:
    """`prepare` the instance, then start its master daemon."""
    instance = PostfixInstance(root, port)
    prepare(root, port, config)
    # `check` creates the queue's subdirectories with Postfix's owners and modes.
    await _run(POSTFIX, "-c", str(instance.config), "check")
    await _run(POSTFIX, "-c", str(instance.config), "start")
    return instance


async def stop_postfix(instance: PostfixInstance) -> None:
    """`postfix stop`, then wait for the master to exit (killed after 10 s)."""
    pid_file = instance.root / "queue" / "pid" / "master.pid"
    pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    with contextlib.suppress(AssertionError):
        await _run(POSTFIX, "-c", str(instance.config), "stop")
    if pid is None:
        return

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    try:  # the master stops its children, then exits
        await wait_until(gone, f"Postfix's master (pid {pid}) to exit", timeout=10)
    except AssertionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def private_postfix(
    port: int | None = None, hostname: str = "postfix.test", **parameters: str
) -> AsyncIterator[PostfixInstance]:
    """A running instance (smtpd on `port`, a free one by default) with `main_cf(root,
    hostname, **parameters)`; stopped and removed afterwards."""
    root = new_root()
    try:
        config = main_cf(root, hostname, **parameters)
        instance = await start_postfix(root, free_port() if port is None else port, config)
        try:
            yield instance
        finally:
            await stop_postfix(instance)
    finally:
        shutil.rmtree(root, ignore_errors=True)
