"""Workbooks xl-ar writes: the reconciliation workbook for specialists and the management report.

Written with xlsxwriter: measured here, a formatted 100,000 x 15 sheet takes about 10 s with
xlsxwriter (constant memory: about 200 MB) against about 20 s and 735 MB with openpyxl, and
xlsxwriter has the richer charts and conditional formats. openpyxl stays the tool for editing
existing workbooks (the add-in template).
"""
