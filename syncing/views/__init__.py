"""The web pages of inbound sync, one module per subject: connections, live partner pages,
notifications."""
