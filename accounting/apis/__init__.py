"""REST API of the accounting export (DESIGN.md, "Accounting"; reference 004).

- integrations.py, /api/v1/accounting-integrations/: System Admin and System Config manage
  integrations and their maps.
- reference004.py, /Subscriber_{subscriberId}/AccountingIntegration/Type_{integrationType}/
  Sync, .../History and .../History/{id}/Resend: the Owner of that subscriber (or a
  superuser) only.
"""
