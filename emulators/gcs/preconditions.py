"""Generation and metageneration preconditions (``ifGenerationMatch`` & co).

``ifGenerationMatch=0`` means "the object must not exist", which gives
create-only writes. A failed ``*Match`` is 412. A failed ``*NotMatch`` is 304
on reads (like a conditional GET) and 412 on writes, as the real service does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import GcsError, bad_request
from .model import ObjectVersion


def _int_param(query: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        raw = query.get(name)
        if raw not in (None, ""):
            try:
                return int(raw)
            except ValueError:
                raise bad_request(f"Invalid value for {name}: {raw}") from None
    return None


@dataclass(frozen=True)
class Preconditions:
    generation_match: int | None = None
    generation_not_match: int | None = None
    metageneration_match: int | None = None
    metageneration_not_match: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str], source: bool = False) -> Preconditions:
        """Parse the destination (or, with ``source``, the ``ifSource*``) parameters.

        Uploads spell one of them ``ifMetaGenerationNotMatch``; accept both.
        """
        pre = "ifSource" if source else "if"
        return cls(
            generation_match=_int_param(query, f"{pre}GenerationMatch"),
            generation_not_match=_int_param(query, f"{pre}GenerationNotMatch"),
            metageneration_match=_int_param(
                query, f"{pre}MetagenerationMatch", f"{pre}MetaGenerationMatch"
            ),
            metageneration_not_match=_int_param(
                query, f"{pre}MetagenerationNotMatch", f"{pre}MetaGenerationNotMatch"
            ),
        )

    @property
    def empty(self) -> bool:
        return self == Preconditions()

    def check(self, obj: ObjectVersion | None, write: bool) -> None:
        """Raise 412 (or 304 for reads) when ``obj`` (the live version) fails."""
        if self.generation_match is not None and not self._generation_matches(obj):
            raise GcsError(412, "At least one of the pre-conditions you specified did not hold.")
        if self.metageneration_match is not None and (
            obj is None or obj.metageneration != self.metageneration_match
        ):
            raise GcsError(412, "At least one of the pre-conditions you specified did not hold.")
        if self._not_match_fails(obj):
            status = 412 if write else 304
            raise GcsError(status, "At least one of the pre-conditions you specified did not hold.")

    def _generation_matches(self, obj: ObjectVersion | None) -> bool:
        if self.generation_match == 0:
            return obj is None
        return obj is not None and obj.generation == self.generation_match

    def _not_match_fails(self, obj: ObjectVersion | None) -> bool:
        if self.generation_not_match is not None:
            if self.generation_not_match == 0:
                if obj is None:
                    return True
            elif obj is not None and obj.generation == self.generation_not_match:
                return True
        return (
            self.metageneration_not_match is not None
            and obj is not None
            and obj.metageneration == self.metageneration_not_match
        )
