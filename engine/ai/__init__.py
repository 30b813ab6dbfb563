"""AI in the engine: the assistant (model with offline fallback), usage and budget,
classifying unanswered inquiries, and what the conversation page asks for."""
