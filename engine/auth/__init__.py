"""Who may use Kazi and what they may do: passwords, sessions, tokens, the policy."""

from engine.auth.api_tokens import authenticate_token, create_api_token, revoke_api_token
from engine.auth.policy import Action, Forbidden, may, require
from engine.auth.principal import ROLE_NAMES, Principal, Role
from engine.auth.sessions import authenticate_session, end_session, end_teammate_sessions
from engine.auth.signin import SignInResult, sign_in, workspace_id_for

__all__ = [
    "ROLE_NAMES",
    "Action",
    "Forbidden",
    "Principal",
    "Role",
    "SignInResult",
    "authenticate_session",
    "authenticate_token",
    "create_api_token",
    "end_session",
    "end_teammate_sessions",
    "may",
    "require",
    "revoke_api_token",
    "sign_in",
    "workspace_id_for",
]
