"""The shared inbox: queues, conversations, ownership and the work done in them."""
