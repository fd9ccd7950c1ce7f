"""Announcements: an ad-hoc mail from staff to a segment of a campaign's participants.

The form counts the segment in SQL (segments.py), checks and previews the texts (letters.py);
the announcement is a row that the `announcements` job (sending.py) queues in the outbox a batch
at a time once its time has come, one unique source key per person, so nobody gets it twice.
"""
