"""Staff URLs in tests: every staff page lives under its campaign."""


def staff(path: str, campaign: str = "test") -> str:
    """Return the URL of a staff page of `campaign` (the `network` fixture's is "test")."""
    return f"/campaigns/{campaign}{path}"
