"""Reporting: the statistics rollup kept by every step (`rollup`, registered as an engine
hook), the dashboard figures read from it (`dashboard`), Excel/CSV exports (`exports`),
province plan tables (`plans`), batch import of offline declarations (`imports`), and their
pages (`routes`, `charts`).
"""
