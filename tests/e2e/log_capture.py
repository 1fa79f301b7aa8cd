"""The relay's production logging, captured in memory: what the log tests read."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from proxy.logs import LogPipeline, TextFormatter, configure_logging
from proxy.settings import LogFormat, LogSettings

__all__ = ["LogCapture", "production_logging"]


@dataclass
class LogCapture:
    """The JSON and text streams; the JSON lines are written by the log thread: flush first."""

    streams: list[io.StringIO]
    pipeline: LogPipeline

    def lines(self) -> list[str]:
        self.pipeline.flush()
        return [line for stream in self.streams for line in stream.getvalue().splitlines()]

    def json_lines(self) -> list[str]:
        self.pipeline.flush()
        return self.streams[0].getvalue().splitlines()


@contextmanager
def production_logging() -> Iterator[LogCapture]:
    """The production logging setup (JSON lines) at DEBUG, plus a text-format handler; the
    root logger's handlers and levels are restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    chatty = {
        name: logging.getLogger(name).level for name in ("mail.log", "aiosmtplib", "aiosqlite")
    }
    json_stream, text_stream = io.StringIO(), io.StringIO()
    pipeline = configure_logging(LogSettings(level="DEBUG", format=LogFormat.JSON), json_stream)
    text_handler = logging.StreamHandler(text_stream)
    text_handler.setFormatter(TextFormatter())
    root.addHandler(text_handler)
    try:
        yield LogCapture([json_stream, text_stream], pipeline)
    finally:
        pipeline.stop()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in chatty.items():
            logging.getLogger(name).setLevel(level)
