"""The audit log: every change appended to a hash-chained table, and its verification (decisions.md D-71 … D-73).

``record`` appends an entry (in the caller's transaction when one is open), ``entries`` reads them, ``verify`` names
the first entry that was altered, deleted, reordered or inserted. Personal data never enters the log: summaries hold
ids, counts and SHA-256 digests of files, and phone numbers and ИИН are masked by ``record`` all the same.
"""

from .chain import GENESIS, canonical_json, entry_hash
from .log import cli_actor, entries, record
from .verify import Verification, verify

__all__ = ["GENESIS", "Verification", "canonical_json", "cli_actor", "entries", "entry_hash", "record", "verify"]
