"""Demo data: a realistic reporting day for a registry (default: the shipped 沧州市).

``generate_demo_day`` writes township batches, a few single-village files, department
files and a handful of planted mistakes into an inbox; ``demo_mistakes`` /
``demo_manifest`` say exactly what was planted (also written beside the inbox as
``<inbox>.manifest.json``, never inside it, where the pipeline would ingest it).
"""

from huizong.demo.day import (
    DEFAULT_SEED,
    DemoError,
    DemoFile,
    DemoPlan,
    demo_day_default,
    demo_manifest,
    demo_mistakes,
    generate_demo_day,
    manifest_path,
    plan_demo_day,
    write_demo_plan,
)

__all__ = [
    "DEFAULT_SEED",
    "DemoError",
    "DemoFile",
    "DemoPlan",
    "demo_day_default",
    "demo_manifest",
    "demo_mistakes",
    "generate_demo_day",
    "manifest_path",
    "plan_demo_day",
    "write_demo_plan",
]
