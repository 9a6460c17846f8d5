"""The Docker API guard: a filtering proxy in front of the session's daemon, and its request -> rule mapping."""
