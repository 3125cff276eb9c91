"""One exception family. Every A2FError carries a message meant for the user.

The CLI prints it and exits 2, the Blender operator shows it as a report, bake.py prints it
next to the file name. Anything that is not an A2FError is a bug and keeps its traceback.
"""

from __future__ import annotations


class A2FError(Exception):
    """A user-facing failure (bad input, unreachable server, ...)."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AudioError(A2FError):
    """Audio that cannot be read or used."""


class ConfigError(A2FError):
    """A preset, YAML file, parameter or option that is invalid."""


class FormatError(A2FError):
    """A CSV/JSON animation file that cannot be read."""


class MappingError(A2FError):
    """Clip channels that do not map onto a rig."""


class BackendError(A2FError):
    """A backend that is unavailable or failed while working."""


class ConnectionFailed(BackendError):
    """A server that cannot be reached or that broke the stream."""

    exit_code = 3


class Cancelled(A2FError):
    """The user cancelled the work."""
