"""Writes of inbound sync: identities, connections, sync jobs and their events."""
