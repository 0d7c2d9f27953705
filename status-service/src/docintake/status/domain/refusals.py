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


class EventNotPublished(Exception):
    """The broker did not confirm an event, so the command did not take effect."""
