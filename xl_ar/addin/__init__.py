"""Building the xl-ar Excel add-in (``xl_ar.xlam``) from text sources.

`package.build(out_dir)` assembles the add-in; `project` writes its VBA project with our own MS-CFB writer (`cfb`) and
MS-OVBA compression (`ovba`); `install` puts it into Excel. The modules are imported on use (they need xlwings).
"""
