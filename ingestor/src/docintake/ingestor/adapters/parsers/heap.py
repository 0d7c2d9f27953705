"""The heap of a parser process: what it started with frozen out of the cyclic garbage collector, what each parse
leaves collected and given back to the system, so that a worker stays near the size of its libraries.

Imported by the ingestor's main process too (the pool names `freeze_start_up` as its workers' initializer), so it
imports no parsing library."""

import ctypes
import gc


def freeze_start_up() -> None:
    """Move every object there is now (the parsers' libraries, what the process imported to start) out of the
    cyclic collector's reach: never garbage, they need not be walked by each collection after a parse."""
    gc.collect()
    gc.freeze()


def release_freed_memory() -> None:
    """What a parse left in reference cycles is collected, and what it freed goes back to the system.

    python-docx's parts refer to one another, so a document is freed only by the cyclic collector, and its XML
    trees live in lxml's native memory, which the collector's thresholds never see: without a collection after
    each parse a worker grew by about 1 MiB with each DOCX. glibc then keeps the heap a process freed for its
    next allocations; a parse of a document leaves tens of MiB."""
    gc.collect()  # walks only what the worker made since freeze_start_up
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
