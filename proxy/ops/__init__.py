"""Operations services between the CLI and the store: periods, reports, export, purge."""
