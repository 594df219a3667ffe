"""The settlements the standard rates (п. 7): 3 republican, 38 oblast and 172 district settlements, by KATO code."""

from .registry import KIND_CATEGORY, FormerName, Region, Registry, Settlement, load_registry, normalise_name

__all__ = ["KIND_CATEGORY", "FormerName", "Region", "Registry", "Settlement", "load_registry", "normalise_name"]
