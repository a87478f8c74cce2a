from integration_hub.models import AuditEntry


def audit_record(
    *,
    actor,
    action: str,
    target: str = "",
    details: dict | None = None,
    actor_name: str = "shell",
) -> AuditEntry:
    """Write one audit row. `details` must never carry a secret value, only names of fields.
    `actor_name` names who acted when no user did (the shell, or "system")."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else actor_name,
        action=action,
        target=target,
        details=details or {},
    )
