"""WhatsApp inside the engine: applying webhook events, sending through the outbox."""
