"""The outbox every e-mail goes through."""
