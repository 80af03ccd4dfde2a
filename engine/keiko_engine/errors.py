"""Request errors: raised anywhere in the engine, mapped to a 4xx JSON body by the server."""


class RequestError(Exception):
    """A bad request the caller can fix. The engine's state is unchanged when this is raised."""

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
