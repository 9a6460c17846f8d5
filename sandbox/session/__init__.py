"""A session: its record and directory, its profile, and how it is launched."""
