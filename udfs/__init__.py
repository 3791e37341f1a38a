"""Excel adapters: the only package that imports xlwings.

`udfs.functions` holds the worksheet functions (=AR_...), `udfs.ribbon` the ribbon macros. Each is
a thin adapter: convert Excel input, call one core function, convert the result back.
"""
