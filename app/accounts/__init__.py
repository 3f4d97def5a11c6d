"""Accounts: organisations, users, passwords and API tokens (`operations`), the API caller
read from its token (`principals`), the security log and sign-in throttling (`security`),
and the sign-in pages (`routes`, `forms`).
"""
