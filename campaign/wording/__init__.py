"""Member-level wording in the web UI: a member's own paragraphs at the marked places of the
sequence steps (the domain is campaign/drip/local.py)."""
