"""Reference data of the synthetic practice: payers, procedures, diagnoses, invented people.

Procedure codes are CPT or HCPCS Level II code numbers only (no CPT descriptions, which are
AMA copyright); diagnosis codes are ICD-10-CM (public domain). Fees are invented round figures
of a plausible size, not any payer's published schedule. Names and streets are common words
combined at random: every patient is invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynthPayer:
    """A payer of the synthetic practice and how it behaves."""

    payer_id: str
    name: str
    payer_class: str
    share: float
    """Fraction of the practice's claims."""
    fee_factor: float
    """Allowed amount = Medicare-like base fee x this factor."""
    lag_days: tuple[int, int]
    """Days from billing to adjudication (uniform range)."""
    pay_days: str
    """Weekdays the payer issues payments, as a mask of Mon..Sun (`"1111100"`: every business day)."""
    method: str
    """ACH or CHK."""
    tin: str
    """Payer tax id (TRN03 is '1' + this)."""
    filing_indicator: str
    """CLP06 claim filing indicator code."""
    timely_filing_days: int
    appeal_days: int
    echoes_line_control: bool = True
    """Whether the payer returns REF*6R; when not, lines are matched by code, date and units."""
    reorders_modifiers: bool = False
    """Whether the payer drops or reorders modifiers on SVC01 (a known trap for matchers)."""
    sequestration: bool = False
    """Medicare's 2% payment reduction (CARC 253)."""
    copay: tuple[int, int] = (0, 0)
    """Copay range in dollars on office visits (PR-3)."""
    coinsurance: float = 0.0
    """Patient share of the allowed amount (PR-2)."""
    interest: bool = False
    """Pays prompt-pay interest (PLB L6) on late claims."""
    zero_paid_denials: float = 0.0
    """Share of its full denials sent as processed (CLP02=1) with nothing paid instead of CLP02=4."""


PAYERS: tuple[SynthPayer, ...] = (
    SynthPayer("MCR", "Medicare Part B", "medicare", 0.30, 1.00, (12, 24), "1111100", "ACH", "1360000001", "MB",
               365, 120, sequestration=True, coinsurance=0.20),
    SynthPayer("MCD", "State Medicaid Program", "medicaid", 0.15, 0.72, (18, 40), "0001000", "CHK", "1360000002", "MC",
               180, 90),
    SynthPayer("SMH", "Summit Mutual Health", "commercial", 0.17, 1.30, (9, 20), "0100100", "ACH", "1360000003", "12",
               180, 180, copay=(20, 40), interest=True),
    SynthPayer("KCA", "Keystone Care Alliance", "commercial", 0.15, 1.22, (10, 26), "1001000", "ACH", "1360000004",
               "HM", 90, 180, echoes_line_control=False, reorders_modifiers=True, copay=(15, 35),
               zero_paid_denials=0.6),
    SynthPayer("HVI", "Harborview Insurance Co", "commercial", 0.13, 1.15, (14, 32), "0010000", "ACH", "1360000005",
               "15", 120, 180, copay=(25, 50), coinsurance=0.10, zero_paid_denials=0.3),
    SynthPayer("SELF", "Self Pay", "self_pay", 0.10, 1.0, (0, 0), "0000000", "CHK", "", "", 0, 0),
)

# code, Medicare-like base allowed per unit (cents), practice charge per unit (cents),
# relative frequency, max units, is an office visit (E/M: copay applies)
PROCEDURES: tuple[tuple[str, int, int, float, int, bool], ...] = (
    ("99213", 9200, 18500, 0.22, 1, True),
    ("99214", 13000, 26000, 0.14, 1, True),
    ("99212", 5700, 12000, 0.05, 1, True),
    ("99203", 11000, 22500, 0.04, 1, True),
    ("99204", 16800, 34000, 0.03, 1, True),
    ("99396", 15500, 29500, 0.03, 1, True),
    ("36415", 300, 1500, 0.08, 1, False),
    ("80053", 1050, 4500, 0.05, 1, False),
    ("85025", 780, 3500, 0.05, 1, False),
    ("93000", 1650, 6000, 0.04, 1, False),
    ("71046", 3000, 11000, 0.03, 1, False),
    ("20610", 6200, 18000, 0.03, 1, False),
    ("97110", 2950, 7500, 0.06, 4, False),
    ("90471", 1800, 4000, 0.03, 1, False),
    ("90686", 2000, 4500, 0.03, 1, False),
    ("G0438", 17000, 30000, 0.02, 1, True),
    ("G0439", 13000, 25000, 0.03, 1, True),
    ("J1100", 15, 500, 0.02, 10, False),
    ("J3301", 160, 1200, 0.02, 4, False),
    # minor surgical procedures, drawn only for the multiple-procedure claims (frequency 0 in the mix)
    ("11042", 15000, 34000, 0.0, 1, False),
    ("12002", 13000, 30000, 0.0, 1, False),
    ("10060", 11000, 25000, 0.0, 1, False),
    ("11104", 9000, 21000, 0.0, 1, False),
    ("17110", 7000, 16500, 0.0, 1, False),
    ("11200", 5000, 12500, 0.0, 1, False),
)

MPR_CODES: tuple[str, ...] = ("11042", "12002", "10060", "11104", "17110", "11200")
"""Procedures subject to the multiple-procedure reduction; their base fees are $20 or more apart, so a
reduction applied to the wrong line always moves the allowed amount beyond the $5 / 2% threshold."""

MPR_RATES: tuple[float, ...] = (1.0, 0.5)
"""How every synthetic payer reduces multiple procedures: the highest fee at 100%, the others at 50%."""

SECONDARY_PAYERS: dict[str, tuple[str, ...]] = {
    "MCR": ("MCD", "HVI"),  # Medicare crossovers: Medicaid for dual eligibles, a Medigap-like supplement
    "HVI": ("SMH",),  # coordination of benefits between two commercial plans
}
"""Payers that forward claims (CLP02=19) and the payers that may be the patient's secondary."""

SUPPLEMENT_SKIPS_DEDUCTIBLE: frozenset[tuple[str, str]] = frozenset({("MCR", "HVI")})
"""(primary, secondary) pairs where the secondary pays the coinsurance and copay but leaves the
deductible to the patient (a Medigap plan that does not cover the Part B deductible)."""

# Modifier-specific rates: (code, modifier, share of the base rate)
MODIFIER_RATES: tuple[tuple[str, str, float], ...] = (
    ("71046", "26", 0.32),
    ("71046", "TC", 0.68),
    ("93000", "26", 0.40),
)

# Modifiers a line may carry, by code (first is most common)
LINE_MODIFIERS: dict[str, tuple[str, ...]] = {
    "99213": ("25",),
    "99214": ("25",),
    "20610": ("RT", "LT"),
    "97110": ("GP",),
    "71046": ("26",),
    "93000": ("26",),
    "36415": ("90",),
}

DIAGNOSES: tuple[str, ...] = (
    "I10", "E119", "E785", "J069", "M5450", "Z0000", "Z23", "R059", "E6601", "F419",
    "K219", "M1711", "N390", "R0789", "J45909", "E039", "G4733", "M7918", "R519", "Z1231",
)

# CARC code values used for denials, by denial category (our categories; code texts are X12's)
DENIAL_REASONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # category: ((group, CARC, RARC or ''), ...)
    "eligibility": (("CO", "27", "N30"), ("CO", "31", "")),
    "authorization": (("CO", "197", "N54"), ("CO", "15", "")),
    "coding": (("CO", "4", "N519"), ("CO", "11", ""), ("CO", "181", "M51")),
    "medical_necessity": (("CO", "50", "N386"),),
    "timely_filing": (("CO", "29", ""),),
    "duplicate": (("OA", "18", ""),),
    "bundling": (("CO", "97", "M15"), ("CO", "234", "")),
    "coordination_of_benefits": (("CO", "22", "MA04"),),
    "missing_information": (("CO", "16", "MA130"), ("CO", "252", "N706")),
}

# Share of whole-claim denials by category (line denials use bundling / coding / medical necessity)
DENIAL_MIX: dict[str, float] = {
    "eligibility": 0.20,
    "authorization": 0.12,
    "coding": 0.12,
    "medical_necessity": 0.12,
    "timely_filing": 0.08,
    "duplicate": 0.10,
    "bundling": 0.06,
    "coordination_of_benefits": 0.10,
    "missing_information": 0.10,
}

FIRST_NAMES: tuple[str, ...] = (
    "Avery", "Blake", "Carmen", "Dana", "Elliot", "Farah", "Gabriel", "Harper", "Imani", "Jonah",
    "Kendall", "Leona", "Marcus", "Nadia", "Orson", "Priya", "Quinn", "Rosalind", "Silas", "Tamsin",
    "Ulric", "Vera", "Wendell", "Ximena", "Yusuf", "Zelda", "Anneliese", "Bartholomew", "Cosima", "Desmond",
    "Evangeline", "Florian", "Gwendolyn", "Horatio", "Isolde", "Jasper", "Kaveh", "Lucinda", "Mireille", "Nikolai",
)

LAST_NAMES: tuple[str, ...] = (
    "Abernathy", "Blackwood", "Castellano", "Drummond", "Eastwick", "Fairbanks", "Galloway", "Hollister",
    "Ingleby", "Jovanovic", "Kettering", "Lindqvist", "Marchetti", "Northcott", "Okonkwo", "Pemberton",
    "Quimby", "Radcliffe", "Sandoval", "Thistlewood", "Umberfield", "Vandermeer", "Whitlock", "Yardley",
    "Zabinski", "Ashgrove", "Brightwater", "Coldwell", "Dunmore", "Elderberry", "Foxworth", "Greystone",
)

STREETS: tuple[str, ...] = (
    "Juniper Ridge Rd", "Tamarack Ln", "Copperfield Ave", "Larkspur Ct", "Windmere Dr", "Sycamore Bend",
    "Quarry Hill Rd", "Bellflower St", "Heron Point Way", "Millbrook Pkwy", "Orchard Gate Ln", "Saddle Creek Rd",
)

CITIES: tuple[tuple[str, str, str], ...] = (
    ("Fairhaven", "OH", "43001"), ("Millbrook", "OH", "43002"), ("Cedar Falls", "OH", "43003"),
    ("Riverton", "OH", "43004"), ("Lakemont", "OH", "43005"),
)

PRACTICE = {
    "name": "Lakeside Family Medicine (synthetic)",
    "npi": "1234567893",
    "tax_id": "990000001",
    "address": ("100 Main St", "Fairhaven", "OH", "43001"),
}
