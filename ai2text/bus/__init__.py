"""The durable event bus: CloudEvents through a transactional outbox to idempotent consumers."""
