"""CityScore-KZ: reference software for Kazakhstan's Smart City Reference Standard (order No. 469/НК).

The standard is held as versioned data (:mod:`cityscore.standard`), the settlements it rates as a registry
(:mod:`cityscore.settlements`); everything else reads those two.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cityscore-kz")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
