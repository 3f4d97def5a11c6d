"""Review: who owes which step now. An agency's queue and an enterprise's or bank's
workbench (`queue`, `workbench`), overdue steps per agency (`overdue`), and the pages that
show them with the bulk bar (`routes`). Deadlines themselves are opened and closed by the
engine (`app.workflow.deadlines`); this package reads them.
"""
