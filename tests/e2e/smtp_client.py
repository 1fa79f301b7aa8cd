"""A tiny raw SMTP client for tests that must send what real clients would not."""

from __future__ import annotations

import asyncio
import contextlib

# A client address outside the allowed networks of the hostile-input tests (they allow
# 127.0.0.1/32 only): hostile clients connect from here.
OUTSIDER = "127.0.0.2"


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(
        cls, port: int, *, greet: bool = True, source: str | None = None
    ) -> RawClient:
        """Connect to 127.0.0.1:port, from `source` (e.g. OUTSIDER) when given."""
        local = (source, 0) if source is not None else None
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        client = cls(reader, writer)
        banner = await client.reply()
        assert banner.startswith("220"), banner
        if greet:
            await client.command("EHLO client.test")
        return client

    @staticmethod
    async def connect_line(port: int, *, source: str | None = None) -> str:
        """Connect, read the first line (greeting or refusal) and close."""
        local = (source, 0) if source is not None else None
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        return line.decode().rstrip("\r\n")

    async def reply(self) -> str:
        """One (possibly multi-line) reply, lines joined with newlines."""
        lines = []
        while True:
            line = await asyncio.wait_for(self.reader.readline(), 5)
            if not line:
                raise ConnectionError("connection closed")
            lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
            if line[3:4] != b"-":
                return "\n".join(lines)

    async def command(self, line: str | bytes) -> str:
        data = line.encode() if isinstance(line, str) else line
        self.writer.write(data + b"\r\n")
        return await self.reply()

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
