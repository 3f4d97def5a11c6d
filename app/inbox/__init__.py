"""Inbox: who hears of each step — notifications written with the step by an engine hook,
the e-mail sent once it commits (`notifications`, `mail`) — and the notifications page
(`routes`).
"""
