"""Pilot groups, participants and consent."""
