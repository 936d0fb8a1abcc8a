"""`python -m moodlake`: the same entry point as the `moodlake` command."""

from moodlake.app.cli import main

main()
