"""Postfix in front of the relay, for real: a private Postfix instance on loopback ports.

Chain: SMTP client -> Postfix (relayhost = the relay) -> prospect-relay -> recording upstream.
Postfix delivers the sender's own domain (example.com) straight to the recording upstream via
transport_maps, so the bounce it writes for a recipient the relay refused at RCPT lands there
too. Needs root (Postfix's master runs as root and drops to `mail_owner`), like the Debian
package it comes from; deploy/postfix/ documents the same settings for production.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from proxy.app import build_relay
from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings, Settings
from proxy.store import Store, create_engine, upgrade
from tests.conftest import Received, RecordingUpstream
from tests.unit.policy_factory import prospect
from tests.waiting import wait_until

pytestmark = pytest.mark.postfix

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"
SECRET = "postfix-chain-secret-0123456789abcdef"
SENDER = "ventes@example.com"
CLIENT_BOUNCES = "bounces@client.fr"  # a return path outside example.com
FACILITIES = "services.generaux@acme-industrie.fr"  # job: facilities
FINANCE = "comptabilite@acme-industrie.fr"  # job: finance
WELCOME = "contact@acme-industrie.fr"
OBJECTED = "direction@acme-industrie.fr"
WAIT = 30.0

POLICY = """\
[controllers.example]
legal_name = "Example SAS"
postal_address = "10 rue de l'Exemple, 75002 Paris, France"
domains = ["example.com"]
privacy_url = "https://www.example.com/privacy"
"""

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

MAIN_CF = """\
compatibility_level = 3.6
myhostname = postfix.test
mydomain = postfix.test
myorigin = $myhostname
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{relay_port}
transport_maps = inline:{{ example.com=smtp:[127.0.0.1]:{sink_port} }}
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =
"""


async def _run(*args: str) -> str:
    """Run a Postfix command without blocking the loop the relay and the sink live in."""
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), WAIT)
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_postfix(root: Path, main_cf: str, port: int | None = None) -> PostfixInstance:
    """Write `main_cf` and master.cf (smtpd on `port`, a free one by default) under `root`,
    create the queue, start the master daemon."""
    if os.geteuid() != 0:
        pytest.fail("the Postfix chain test needs root: Postfix's master daemon runs as root")
    instance = PostfixInstance(root, _free_port() if port is None else port)
    instance.config.mkdir(parents=True)
    (root / "queue").mkdir()
    (root / "data").mkdir()
    shutil.chown(root / "data", user="postfix")
    (instance.config / "main.cf").write_text(main_cf)
    (instance.config / "master.cf").write_text(MASTER_CF.format(port=instance.port))
    # `check` creates the queue's subdirectories with Postfix's owners and modes.
    await _run(POSTFIX, "-c", str(instance.config), "check")
    await _run(POSTFIX, "-c", str(instance.config), "start")
    return instance


async def stop_postfix(instance: PostfixInstance) -> None:
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


@dataclass
class Chain:
    postfix: PostfixInstance
    sink: RecordingUpstream

    async def wait_for(self, predicate: Callable[[Received], bool]) -> Received:
        """The first message the sink received that matches, flushing Postfix's queue."""
        looks = 0

        async def matching() -> Received | None:
            nonlocal looks
            looks += 1
            if looks % 10 == 0:  # Postfix delivers at once; a flush only helps after a retry
                await self.postfix.flush()
            return next((received for received in self.sink.messages if predicate(received)), None)

        return await wait_until(
            matching,
            "a matching message at the sink",
            every=0.2,
            detail=lambda: f"Postfix log:\n{self.postfix.maillog}",
        )


@pytest.fixture
async def chain(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> AsyncIterator[Chain]:
    (tmp_path / "policy.toml").write_text(POLICY)
    settings = make_settings(
        upstream={"host": recording_upstream.host, "port": recording_upstream.port, "timeout": 5},
        security={"secret_key": SECRET},
        web={"public_url": "https://unsubscribe.example.test"},
        smtp={"dsn_rcpt_refusals": False},  # Postfix bounces RCPT refusals itself
    )
    await upgrade(settings.database.url)
    engine = create_engine(DatabaseSettings(url=settings.database.url))
    try:
        store = Store(engine, SECRET.encode())
        await store.add_suppression(address=OBJECTED, origin=SuppressionOrigin.ONE_CLICK)
        await store.upsert_contacts(
            [
                prospect(FACILITIES, job_function="facilities"),
                prospect(FINANCE, job_function="finance"),
            ]
        )
    finally:
        await engine.dispose()
    relay = await build_relay(settings)
    await relay.start()
    # Not under tmp_path: pytest's base directory is 0700 root, and Postfix's daemons open
    # their data and log files as `mail_owner`, who must be able to traverse the path.
    root = Path(tempfile.mkdtemp(prefix="prospect-relay-postfix-"))
    root.chmod(0o755)
    try:
        main_cf = MAIN_CF.format(
            root=root, relay_port=relay.smtp_port, sink_port=recording_upstream.port
        )
        postfix = await start_postfix(root, main_cf)
        try:
            yield Chain(postfix, recording_upstream)
        finally:
            await stop_postfix(postfix)
    finally:
        await relay.stop(grace=1.0)
        shutil.rmtree(root, ignore_errors=True)


def _offer(recipient: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Ventes Example <{SENDER}>"
    msg["To"] = recipient
    msg["Subject"] = "Nouvelle gamme de pompes"
    msg["X-Prospect-Source"] = "salon Lyon 2025"
    msg.set_content("Bonjour,\n\nnotre nouvelle gamme est disponible.\n")
    return msg


def _flat(text: str) -> str:
    """Undo Postfix's line folding in bounce texts."""
    return " ".join(text.split())


async def test_message_through_postfix_carries_the_footer(chain: Chain) -> None:
    await aiosmtplib.send(_offer(WELCOME), hostname="127.0.0.1", port=chain.postfix.port)

    received = await chain.wait_for(lambda m: m.rcpt_tos == [WELCOME])
    assert received.mail_from == SENDER
    message = message_from_bytes(received.content, policy=email_policy.default)
    assert "by postfix.test (Postfix)" in " ".join(message.get_all("Received", []))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://unsubscribe.example.test/u/" in message["List-Unsubscribe"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "notre nouvelle gamme est disponible" in text
    assert "prospection commerciale de Example SAS" in _flat(text)
    assert "salon Lyon 2025" in text
    assert "X-Prospect-Source" not in message


async def test_suppressed_recipient_bounces_to_the_sender_via_postfix(chain: Chain) -> None:
    # Postfix accepts (it does not know the policy); the relay refuses at RCPT.
    await aiosmtplib.send(_offer(OBJECTED), hostname="127.0.0.1", port=chain.postfix.port)

    bounce = await chain.wait_for(lambda m: m.rcpt_tos == [SENDER])
    assert bounce.mail_from == ""  # a DSN has the null sender
    report = message_from_bytes(bounce.content, policy=email_policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report["Subject"] == "Undelivered Mail Returned to Sender"
    parts = list(report.iter_parts())
    notification = _flat(parts[0].get_content())
    assert f"<{OBJECTED}>" in notification
    assert "550 5.7.1 suppressed" in notification
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    fields = _flat(status.as_string())
    assert f"Final-Recipient: rfc822; {OBJECTED}" in fields
    assert "Action: failed" in fields and "Status: 5.7.1" in fields
    assert "Diagnostic-Code: smtp; 550 5.7.1 suppressed" in fields
    assert not [m for m in chain.sink.messages if OBJECTED in m.rcpt_tos]


async def test_postfix_bounce_for_another_domain_goes_through_the_relay(chain: Chain) -> None:
    # The sender's domain is not routed by transport_maps: Postfix sends its bounce for the
    # suppressed recipient through the relay (MAIL FROM:<>), which forwards it untouched.
    # `bounces@` is an operational address: judged as prospecting mail it was refused.
    offer = _offer(OBJECTED)
    await aiosmtplib.send(
        offer, sender=CLIENT_BOUNCES, hostname="127.0.0.1", port=chain.postfix.port
    )

    bounce = await chain.wait_for(lambda m: m.rcpt_tos == [CLIENT_BOUNCES])
    assert bounce.mail_from == ""
    report = message_from_bytes(bounce.content, policy=email_policy.default)
    assert report["Subject"] == "Undelivered Mail Returned to Sender"
    assert "by relay.test (prospect-relay)" in " ".join(report.get_all("Received", []))
    assert "List-Unsubscribe" not in report
    assert "550 5.7.1 suppressed" in _flat(bounce.content.decode(errors="replace"))


async def test_content_refusal_in_a_mixed_message_reaches_the_sender_by_the_relays_dsn(
    chain: Chain,
) -> None:
    # The campaign targets facilities: the finance contact is refused after DATA, where one
    # reply covers the message. Postfix gets 250 and bounces nothing; the relay reports.
    offer = _offer(FACILITIES)  # the other recipient in the envelope only, as with Bcc
    offer["X-Prospect-Targets"] = "facilities"
    await aiosmtplib.send(
        offer, recipients=[FACILITIES, FINANCE], hostname="127.0.0.1", port=chain.postfix.port
    )

    report = await chain.wait_for(lambda m: m.rcpt_tos == [SENDER])
    delivered = await chain.wait_for(lambda m: FACILITIES in m.rcpt_tos)
    assert delivered.rcpt_tos == [FACILITIES]
    assert report.mail_from == ""
    dsn = message_from_bytes(report.content, policy=email_policy.default)
    assert dsn["From"] == "Mail Delivery System <MAILER-DAEMON@relay.test>"  # not Postfix's
    status = next(p for p in dsn.walk() if p.get_content_type() == "message/delivery-status")
    fields = _flat(status.as_string())
    assert f"Final-Recipient: rfc822; {FINANCE}" in fields
    assert "Action: failed" in fields and "Status: 5.7.1" in fields
    assert "b2b-not-relevant" in fields and FACILITIES not in fields
    assert not [m for m in chain.sink.messages if FINANCE in m.rcpt_tos]
    assert "Undelivered Mail Returned to Sender" not in str(
        [m.content[:400] for m in chain.sink.messages]
    )
