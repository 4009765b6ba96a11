"""Roll-up: accepted village and department reports → consolidated tables per org unit.

Public entry point: :func:`roll_up` (called by ``huizong.pipeline.rollup_day``).
"""

from huizong.rollup.core import RollupResult, roll_up

__all__ = ["RollupResult", "roll_up"]
