"""The package's two exception classes: bad input, and an estimator used before it is fitted.

* :class:`IsingRGError` (a :class:`ValueError`): bad input or impossible parameters, always
  with a clear one-line message. The CLI prints ``Error: <message>`` and exits with status 1.
  ``except ValueError`` catches it too.
* :class:`NotFittedError` (a :class:`ValueError` and an :class:`AttributeError`, as
  scikit-learn's class of that name): a programming error, a model queried before ``fit`` (or
  a constructor) gave it parameters. It is *not* an IsingRGError, so ``except IsingRGError``
  handles bad input without hiding such bugs, and the CLI lets it through as a traceback.
  Being an AttributeError, it makes ``hasattr(model, "n_visible")`` False on an unfitted model.
"""

__all__ = ["IsingRGError", "NotFittedError", "one_line"]


class IsingRGError(ValueError):
    """Bad input or impossible parameters; the CLI prints ``Error: <message>`` and exits 1."""


class NotFittedError(ValueError, AttributeError):
    """A model used before it was fitted (a programming error, not bad input)."""


def one_line(text: object, limit: int = 200) -> str:
    """``text`` for a one-line message: whitespace runs collapsed, cut to ``limit`` characters
    (e.g. ``one_line(repr(value), 40)`` to quote a bad value)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
