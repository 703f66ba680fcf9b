"""Pure domain: org, metrics, calendar, pace, targets, alert rules, accounts, personal-data protection.

No I/O here: no database, no files, no clock; every moment comes in as an argument.
"""
