"""The standard 469/НК as versioned data.

The methodology lives in YAML catalogs (``catalogs/<version>/``) checked by JSON Schemas (``schema/``) and loaded
into frozen models. Typical use::

    from cityscore.standard import load_standard
    std = load_standard()            # the packaged catalog of order 469/НК-2025
    kpi = std.kpi("1.8")
    kpi.targets.target("oblast")     # Target(comparator='≥', value=85, kind='threshold', text='≥ 85%')
"""

from .findings import Finding, ValidationReport
from .loader import load_catalog, validate_catalog
from .models import (
    CATEGORIES,
    KPI,
    Absence,
    Band,
    Category,
    Function,
    Initiative,
    InitiativeFunctions,
    Section,
    Standard,
    Target,
)
from .store import DEFAULT_STANDARD_ID, CatalogRef, export_catalog, import_catalog, list_catalogs, load_standard

__all__ = [
    "CATEGORIES",
    "DEFAULT_STANDARD_ID",
    "KPI",
    "Absence",
    "Band",
    "CatalogRef",
    "Category",
    "Finding",
    "Function",
    "Initiative",
    "InitiativeFunctions",
    "Section",
    "Standard",
    "Target",
    "ValidationReport",
    "export_catalog",
    "import_catalog",
    "list_catalogs",
    "load_catalog",
    "load_standard",
    "validate_catalog",
]
