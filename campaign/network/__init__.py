"""The campaign, its member organisations and their facts."""
