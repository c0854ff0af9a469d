"""Exceptions that tell the job runner what to do with a failed job."""


class TransientError(Exception):
    """Worth retrying with backoff: a GitHub 5xx, a reset connection, a timeout."""


class RetryLater(Exception):
    """Not allowed yet (a rate limit): run the job again at `at` (unix seconds).

    Deferring is not a failed attempt, so it never moves a job towards the dead state.
    """

    def __init__(self, at: float, reason: str = ""):
        super().__init__(reason or f"retry at {at:.0f}")
        self.at = at
        self.reason = reason


class PermanentError(Exception):
    """Retrying cannot help (a 404 on a deleted repository, a malformed payload)."""
