"""Run the CLI with ``python -m antenna``."""

from antenna.cli.main import main

main()
