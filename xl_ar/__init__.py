"""xl-ar: medical accounts receivable inside Excel.

The core (this package) turns payer remittances, practice-management exports and bank deposits
into canonical tables (`xl_ar.tables`) and works on them; `udfs` adapts it to Excel.
"""

from xl_ar.errors import InputError, X12Error, XlArError
from xl_ar.findings import Finding, Location
from xl_ar.tables import TABLES

__version__ = "0.1.0"

__all__ = ["TABLES", "Finding", "InputError", "Location", "X12Error", "XlArError", "__version__"]
