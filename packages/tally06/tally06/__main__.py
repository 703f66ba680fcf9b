"""``python -m tally06`` is the ``tally06`` command."""

from tally06.cli import main

main()
