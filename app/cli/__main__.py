"""`python -m app.cli ...`: the `o2o` command without the installed script."""

from app.cli import main

main()
