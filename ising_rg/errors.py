"""The one exception type a user sees: a clear, one-line message, never a traceback."""


class IsingRGError(Exception):
    """Bad input or impossible parameters; the CLI prints ``Error: <message>`` and exits 1."""
