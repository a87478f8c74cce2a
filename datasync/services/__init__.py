"""Writes of Data Sync: capture (capture.py), the job (run.py), the lease (lease.py), replay
and the sample message (delivery.py)."""
