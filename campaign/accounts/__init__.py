"""Staff accounts, roles and the organisation scope."""
