"""Reporting: the statistics rollup kept by every step (`rollup`, registered as an engine
hook), the dashboard figures read from it (`dashboard`), Excel/CSV exports (`exports`),
province plan tables (`plans`), batch import of offline declarations (`imports`: reading and
checking workbooks, which the job worker imports: app/jobs/imports.py), and their pages
(`routes`, `charts`).
"""
