"""Questionnaires and responses."""
