"""The Connections panel of the dashboard (the demo Owner's connection is tested with the demo
command's other results: tests/integration_hub/test_demo_command.py)."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_connections_panel_shows_the_owners_connections_with_their_status(
    client, anna, kit_integration, partner, connect, tasks
):
    connect(anna, kit_integration)
    tasks.run()
    client.force_login(anna)

    page = client.get("/").content.decode()

    assert "Energy Co" in page
    assert "Success" in page
    assert "No connections yet" not in page
