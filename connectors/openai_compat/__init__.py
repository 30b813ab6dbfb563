"""An OpenAI-compatible chat-completions provider for the AI port, and its simulator."""

from connectors.openai_compat.breaker import BreakerState, CircuitBreaker
from connectors.openai_compat.client import ChatAnswer, ChatClient, ChatFailed, ChatMessage
from connectors.openai_compat.provider import CallRecord, OpenAICompatProvider, approved_facts

__all__ = [
    "BreakerState",
    "CallRecord",
    "ChatAnswer",
    "ChatClient",
    "ChatFailed",
    "ChatMessage",
    "CircuitBreaker",
    "OpenAICompatProvider",
    "approved_facts",
]
