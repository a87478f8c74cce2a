"""Every write of the accounting export."""
