"""`python -m proxy` is `prospect-relay`."""

from proxy.cli import main

main()
