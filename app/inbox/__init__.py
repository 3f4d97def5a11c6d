"""Inbox: who hears of each step — notifications written with the step by an engine hook,
each also its e-mail's place in the outbox that the job worker sends (`notifications`; the
backends in `mail`) — and the notifications page (`routes`).
"""
