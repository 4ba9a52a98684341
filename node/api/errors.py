"""API refusals: every one is a 4xx (or a 503 to retry later) with a plain-words reason."""


class ApiError(Exception):
    """A refusal: `status`, `reason` in plain words, and `extra` fields for the JSON answer."""

    def __init__(self, status: int, reason: str, **extra: object) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.extra = extra


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")
