"""Each assistant's own pre-execution hook for its shell tool, answered by the session's broker.

names.py recognises the assistant in the command line, formats.py speaks each
assistant's hook format, answer.py turns a hook payload into a verdict in that
format, program.py writes the small bash hook program, setup.py adds the hook
to one launch without touching the user's own settings.
"""

from .answer import answer

__all__ = ["answer"]
