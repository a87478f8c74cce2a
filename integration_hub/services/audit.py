from integration_hub.models import AuditEntry


def audit_record(
    *, actor, action: str, target: str = "", details: dict | None = None
) -> AuditEntry:
    """Write one audit row. `details` must never carry a secret value, only names of fields."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else "shell",
        action=action,
        target=target,
        details=details or {},
    )
