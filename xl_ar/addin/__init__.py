"""Building the xl-ar Excel add-in (``xl_ar.xlam``) from text sources: MS-OVBA compression and an MS-CFB writer."""
