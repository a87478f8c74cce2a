"""The REST APIs of inbound sync, one module per subject: /v2.1/ connections and queues
(reference 002), and under /api/v1/ identities, the mirror, live partner reads, partner
users, Sync Account and notifications."""
