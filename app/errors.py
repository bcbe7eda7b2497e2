"""The one error hierarchy: whether a failure is worth retrying is a type, not a string match."""

from __future__ import annotations


class MiniReviewError(Exception):
    """Base of every error the app raises on purpose."""


class RetryableError(MiniReviewError):
    """A transient failure (rate limit, 5xx, timeout, connection): trying again later may work."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(MiniReviewError):
    """A failure that repeating the same call will not fix."""


class ConfigError(PermanentError):
    """Server settings or a repository's configuration are invalid."""


class GitHubError(MiniReviewError):
    """A GitHub API call failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubRetryableError(GitHubError, RetryableError):
    """GitHub rate-limited us or failed transiently."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        GitHubError.__init__(self, message, status=status)
        self.retry_after = retry_after


class GitHubPermanentError(GitHubError, PermanentError):
    """GitHub refused the call for good (404, 403 permission, ...)."""


class ReviewRejectedError(GitHubPermanentError):
    """GitHub answered 422 to a review: one of its comments is not on a line of the diff."""


class ModelError(MiniReviewError):
    """The model gateway failed or answered unusably for one chunk."""


class ModelRetryableError(ModelError, RetryableError):
    """429, 5xx, timeout or connection failure from the model gateway."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        ModelError.__init__(self, message)
        self.retry_after = retry_after


class ModelOutputError(ModelError):
    """The answer was not valid JSON, broke the schema, or was cut off."""


def public_reason(exc: BaseException) -> str:
    """What a user may read about a failure (check run, run page): never an unexpected error's message.

    Our own errors are written to be shown. Anything else (a bug, a database or driver error) may quote
    SQL, URLs or credentials, so only its type is named; the traceback goes to the worker's log.
    """
    if isinstance(exc, MiniReviewError):
        return str(exc)
    return f"an unexpected error ({type(exc).__name__}; the details are in mini-review's log)"
