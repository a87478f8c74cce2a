"""Writes of Data Sync, one module per subject: capture (capture.py), the queue tables' SQL
(queues.py), delivery to the receiver (delivery.py), the job that drains the queues
(run.py), its lease (lease.py), the sample message (sample.py) and replay (replay.py)."""
