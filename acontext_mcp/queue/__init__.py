"""Durable work queues: leases across replicas (`leases`), the queue's claims and retries (`work`), the
loop that drains one (`loop`). Below services: it knows rows, leases and projects, not what an item means."""
