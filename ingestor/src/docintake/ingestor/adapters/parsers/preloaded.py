"""What the forkserver loads before it forks the parser processes: every parser and its library, so that the
workers start with them and share their pages instead of each importing its own, all of it frozen out of the
cyclic garbage collector (heap.freeze_start_up)."""

import docintake.ingestor.adapters.parsers.formats  # noqa: F401
from docintake.ingestor.adapters.parsers.heap import freeze_start_up

freeze_start_up()
