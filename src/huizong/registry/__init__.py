"""Org-unit registry: the hierarchy reports roll up along.

Built from China's official statistical division codes (统计用区划代码) plus a small
config of departments. Levels: nation 0, province 1, city 2, county 3, township 4,
village/community 5; departments sit one level below the county or city they belong to.
"""

from huizong.registry.divisions import (
    KIND_BY_LEVEL,
    LEVEL_NAMES_ZH,
    NATION_CODE,
    Registry,
    RegistryError,
    load_divisions,
    load_registry,
    shipped_extract,
)
from huizong.registry.loaded import registry_for, save_registry

__all__ = [
    "KIND_BY_LEVEL",
    "LEVEL_NAMES_ZH",
    "NATION_CODE",
    "Registry",
    "RegistryError",
    "load_divisions",
    "load_registry",
    "registry_for",
    "save_registry",
    "shipped_extract",
]
