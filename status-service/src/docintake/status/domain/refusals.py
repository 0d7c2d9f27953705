"""What the status service refuses to do, or could not do, in the project's own words."""

from uuid import UUID


class BatchNotFound(LookupError):
    def __init__(self, batch_id: UUID | str):
        super().__init__(f"batch {batch_id} is not known")
        self.batch_id = batch_id


class BatchRefusal(Exception):
    """A command the batch's current state does not allow."""


class NothingToRetry(BatchRefusal):
    pass


class BatchIsCancelled(BatchRefusal):
    pass


class BatchAlreadyFinished(BatchRefusal):
    pass


class InvalidCursor(ValueError):
    def __init__(self) -> None:
        super().__init__("The cursor is not one this service issued")


class EventNotPublished(Exception):
    """The broker did not confirm an event, so the command did not take effect."""


class UnreadableRecord(Exception):
    """A batch's stored progress record does not load back; it is set aside (quarantined) with the
    reason for an operator, and no change applies to it until it is repaired."""

    def __init__(self, batch_id: object, reason: str, detail: str = ""):
        super().__init__(f"The progress record of batch {batch_id} cannot be read back and is set aside "
                         f"for an operator: {reason}")
        # As stored, which need not even be a UUID.
        self.batch_id = batch_id
        self.reason, self.detail = reason, detail
