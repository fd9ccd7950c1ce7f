"""The next agreement: a new campaign started from one that has run (copying.py), and last
year's pilot users invited to join it again, by their own consent (returning.py)."""
