"""Error family. Domain errors name the broken rule; Transient/Permanent sit at port boundaries.

Entry points map these classes to HTTP status codes and queue retries; adapters translate
vendor exceptions into them exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MlplaneError(Exception):
    """Base of every error mlplane raises on purpose."""

    code = "error"

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class DomainError(MlplaneError):
    """A business rule was broken by the caller's input; retrying will not help."""

    code = "domain_error"


class InvalidSpec(DomainError):
    """A request or specification is malformed or refers to things that do not exist."""

    code = "invalid_spec"


class InvalidIdentifier(InvalidSpec):
    """A name (model, table, column) does not match the allowed pattern."""

    code = "invalid_identifier"


class NotFound(DomainError):
    code = "not_found"


class TableNotFound(NotFound):
    code = "table_not_found"


class JobNotFound(NotFound):
    code = "job_not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class ScheduleNotFound(NotFound):
    code = "schedule_not_found"


class ArtifactNotFound(NotFound):
    code = "artifact_not_found"


class Conflict(DomainError):
    """The resource is not in a state that allows the operation."""

    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class UnusableTrainingData(DomainError):
    """Known only at run time: after cleaning, the data cannot train the model."""

    code = "unusable_training_data"


class JobCancelled(MlplaneError):
    """Raised inside a running job when its cancellation was requested."""

    code = "cancelled"


class TransientError(MlplaneError):
    """Infrastructure hiccup (connection lost, 5xx, timeout): the operation may be retried."""

    code = "transient"


class PermanentError(MlplaneError):
    """Infrastructure refused for good (permission, corrupt data): do not retry."""

    code = "permanent"


class IntegrityError(PermanentError):
    """Stored bytes do not match the checksum recorded for them."""

    code = "integrity_error"


class TooManyRejects(DomainError):
    """More rows were rejected than the ingestion's max_reject_ratio allows; nothing was loaded."""

    code = "too_many_rejects"


class SourceChanged(InvalidSpec):
    """A source file vanished or changed between the submit and the plan; submit the ingestion again."""

    code = "source_changed"
