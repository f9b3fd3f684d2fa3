"""Which versions a retention policy keeps: a pure function, property-tested with hypothesis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from domain.types.lifecycle import AliasMove, RetentionPlan, RetentionPolicy, VersionFacts


def recently_aliased(history: Iterable[AliasMove], current: Iterable[int], since: datetime) -> set[int]:
    """Versions an alias points to now, or pointed to at any moment after `since`."""
    versions = set(current)
    for move in history:
        if move.at >= since:  # the version moved away from was serving until this moment
            versions.add(move.to_version)
            if move.from_version is not None:
                versions.add(move.from_version)
    return versions


def plan_retention(
    model: str, versions: Sequence[VersionFacts], aliased: set[int], policy: RetentionPolicy, now: datetime,
    served: Mapping[int, Sequence[str]] | None = None,
) -> RetentionPlan:
    """`served`: version -> the pipelines serving it now; kept whatever the policy says, like an aliased one."""
    served = served or {}
    newest = {v.version for v in sorted(versions, key=lambda v: v.version, reverse=True)[: policy.keep_last]}
    young_after = now - timedelta(days=policy.keep_days)
    reasons: dict[int, str] = {}
    for facts in versions:
        if served.get(facts.version):
            reasons[facts.version] = served_by(served[facts.version])
        elif facts.version in aliased:
            reasons[facts.version] = "aliased now or recently"
        elif facts.version in newest:
            reasons[facts.version] = f"among the newest {policy.keep_last}"
        elif facts.created_at > young_after:
            reasons[facts.version] = f"younger than {policy.keep_days:g} days"
    delete = tuple(sorted(v.version for v in versions if v.version not in reasons))
    for version in delete:
        reasons[version] = "delete"
    reclaimed = sum(v.bytes for v in versions if v.version in delete)
    keep = tuple(sorted(v.version for v in versions if v.version not in delete))
    return RetentionPlan(model, keep, delete, reasons, reclaimed)


def served_by(pipelines: Sequence[str]) -> str:
    names = sorted(pipelines)
    return f"served by pipeline{'s' if len(names) > 1 else ''} {', '.join(names)}"
