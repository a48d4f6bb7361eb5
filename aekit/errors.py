"""The exception types for mistakes a user can fix."""

from __future__ import annotations


class AekitError(Exception):
    """A problem with the user's input, files or options.

    The message is one sentence that names the file or value at fault and says how to fix
    it; the command line prints it on one line and exits with code 2.
    """


class ParameterError(AekitError, ValueError):
    """A setting with a bad value, named as the Python parameter: ``epochs=0: must be at least 1``.

    ``parameter`` is the keyword argument's name; the command line rewrites the message with
    the matching flag (``--epochs 0: must be at least 1``).
    """

    def __init__(self, parameter: str, value: object, problem: str):
        self.parameter, self.value, self.problem = parameter, value, problem
        super().__init__(f"{parameter}={value!r}: {problem}")

    def as_flag(self) -> str:
        """The message as the command line says it."""
        return f"--{self.parameter.replace('_', '-')} {self.value}: {self.problem}"


def check_whole(parameter: str, value: object, least: int = 1, most: int | None = None) -> int:
    """``value`` if it is a whole number from ``least`` to ``most`` (no upper bound if None);
    otherwise a :class:`ParameterError` naming ``parameter``. The one check of every count
    and size setting."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(parameter, value, "must be a whole number")
    if value < least:
        raise ParameterError(parameter, value, f"must be at least {least}")
    if most is not None and value > most:
        raise ParameterError(parameter, value, f"must be at most {most:,}")
    return value


class NotFittedError(AekitError, AttributeError):
    """An estimator was used before ``fit`` (an AttributeError too, as scikit-learn expects)."""
