"""The dsr command-line front end: Typer commands over the `dsr` library."""
