"""Projects: declaring, editing and change requests, intended banks, attachments and
comments, the project page and its list — every change to a project goes through the
workflow engine's step writer (`operations`), as an audit-only step where it is not a
workflow trigger. Views and forms for these pages live in `routes`, `forms` and `actions`.
"""
