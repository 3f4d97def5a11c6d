"""Background work, outside the request: batch imports, the mail outbox, and the periodic
tasks (reminders, escalations, lapse checks, bulletins) that run on a schedule.

The queue is Huey (`queue`): a SQLite file by default, so `make run` needs no server beside
the app, and Redis in deployment. What a job is, how far it got and what went wrong is kept
in the database (`models.Job`), so that any worker on any host can take it up and any web
host can show it: `runner` submits, claims and finishes jobs, and queues again a job whose
worker stopped beating its heartbeat; `worker` is the worker process; `outbox` sends the
mail that steps wrote; `imports` runs a workbook import in chunks; `schedule` is the hook
for periodic tasks.
"""
