"""Review: who owes which step now. Everyone's queue and workbench (`queue`, `workbench`,
both reading `access.owed_condition`), one decision on several projects (`bulk`), reminders
before a time limit and escalation one level up (`reminders`, run daily by the job worker),
overdue steps per agency (`overdue`), the agency's local settings (`settings`), and their
pages (`routes`). Owed items themselves are opened and closed by the engine
(`app.workflow.deadlines`); this package reads them.
"""
