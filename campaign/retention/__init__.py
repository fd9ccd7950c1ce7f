"""Retention: a campaign keeps personal data a while after its end, warns, then purges it.

The dates are in campaign/network/retention.py (the consent text states them too); the
`retention` job of campaign/jobs.py runs `due.run_due`.
"""
