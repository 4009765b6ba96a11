"""Huizong."""

import os

#: Arrow's buffers (every ``str`` column of pandas 3 is one) from the C library's
#: allocator rather than mimalloc, unless the operator chose one: a national night held
#: 0.1 GB more at its peak with mimalloc, which keeps what a step freed for the next one
#: (bench/memwatch.py), though the national fast path of a correction ran 25 % slower
#: (README, *Memory of the national day*). Set before pyarrow is imported, which reads
#: it once.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
