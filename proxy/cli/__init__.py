"""Command line: parse, call a service, print. No rules and no SQL here.

Each area's commands live in their own module and are attached to one click group.
"""

from __future__ import annotations

import click

from proxy import __version__
from proxy.cli import explain, ops, register, rights, serve, webhooks

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prospect-relay")
def cli() -> None:
    """prospect-relay: SMTP relay enforcing EU/French prospecting rules."""


for module in (serve, register, explain, ops, rights, webhooks):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="prospect-relay")
