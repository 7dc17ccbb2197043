"""``python -m mdval.cli`` = ``mdval``."""

from mdval.cli.main import main

main()
