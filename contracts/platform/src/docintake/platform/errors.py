"""The project's own words for what went wrong outside the process; adapters raise nothing else."""


class StorageUnavailable(Exception):
    """Object storage could not be reached or did not answer; worth another try later."""


class ObjectMissing(Exception):
    """The object is not (or no longer) in storage."""


class ObjectTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"object exceeds {limit} bytes")
        self.limit = limit


class GraphUnavailable(Exception):
    """Neo4j could not be reached, or refused for now (a retryable error); worth another try later."""


class GraphRefused(Exception):
    """Neo4j refused the statement for good; `code` is Neo4j's status code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class ReceiverFailed(Exception):
    """A webhook receiver could not be reached, did not answer in time, or answered other than 2xx."""
