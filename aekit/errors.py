"""The one exception type for mistakes a user can fix."""


class AekitError(Exception):
    """A problem with the user's input, files or options.

    The message is one sentence that names the file or value at fault and says how to fix
    it; the command line prints it on one line and exits with code 2.
    """
