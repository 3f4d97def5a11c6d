"""Business operations. Each public write operation is one transaction (unit_of_work)."""
