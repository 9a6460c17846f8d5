"""wingman-sandbox doctor: the acceptance vectors tried for real on the user's machine."""
