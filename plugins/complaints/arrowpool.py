"""Which allocator pyarrow's buffers come from in a process that ingests or publishes.

pyarrow's default pool on Linux is mimalloc. An ingest allocates and frees ~1 GB per 1,000,000
rows in batches of tens of MB; mimalloc gives freed pages back to the kernel at once, so the next
batch faults them in again, while pyarrow's jemalloc pool keeps them for about a second and
reuses them. On B1's 1,000,000-row file (docs/performance.md, item 47), in 14 pairs interleaved
over three hours: 0.12 s faster in the median (-0.17 to +0.65 s; the most when the host takes
memory back), and a lower peak in every pair (698-761 against 753-811 MB).

``ARROW_DEFAULT_MEMORY_POOL`` (``jemalloc``, ``mimalloc`` or ``system``), when set, is the
operator's choice: pyarrow applies it itself and it is left alone here.
"""

from __future__ import annotations

import os

import pyarrow as pa

ENV = "ARROW_DEFAULT_MEMORY_POOL"
PREFERRED = "jemalloc"


def use_preferred_pool() -> str:
    """Make jemalloc pyarrow's default pool for the rest of the process, unless ``ENV`` names
    one or this pyarrow was built without it; the backend in use afterwards. Buffers allocated
    before keep their own pool, so this is safe to call at any time, and more than once."""
    if not os.environ.get(ENV) and PREFERRED in pa.supported_memory_backends():
        if pa.default_memory_pool().backend_name != PREFERRED:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
    return pa.default_memory_pool().backend_name
