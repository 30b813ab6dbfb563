"""The rule form: a new rule written in the rule language and added at the end of a
rule file. The rules already there are not touched, not even re-spaced; a rule the
form cannot express is edited in the text editor instead."""

from __future__ import annotations

from dataclasses import dataclass, field

# Triggers the form offers, and whether each takes a quoted subject (stage, tag...).
TRIGGERS: dict[str, bool] = {
    "message received": False,
    "conversation opened": False,
    "stage entered": True,
    "stage left": True,
    "status changed to": True,
    "assigned": False,
    "tag added": True,
    "task due": False,
    "sla warning": True,
    "sla breached": True,
    "payment confirmed": False,
    "payment failed": False,
    "inquiry classified as": True,  # an intent of ai.yaml
}

# Triggers whose subject cannot be left out.
SUBJECT_REQUIRED: dict[str, str] = {
    "status changed to": "a status",
    "inquiry classified as": "an intent (ai.yaml)",
}

# Actions the form offers: what is written before the quoted argument.
ACTIONS: dict[str, str] = {
    "send template": "send template",
    "send text": "send text",
    "move to stage": "move to stage",
    "tag": "tag",
    "untag": "untag",
    "create task for owner": "create task",
    "notify owner": "notify owner",
    "notify team": "notify team",
    "assign to team": "assign to team",
    "assign to teammate": "assign to teammate",
    "add note": "add note",
    "draft reply": "draft reply",
}


class RuleFormError(ValueError):
    """A form the rule language cannot take, with what to fix."""


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class ActionRow:
    kind: str
    argument: str

    def line(self) -> str:
        if self.kind not in ACTIONS:
            raise RuleFormError(f"{self.kind!r} is not an action the form offers")
        if not self.argument.strip():
            raise RuleFormError(f"'{self.kind}' needs a value")
        if self.kind == "create task for owner":
            return f"create task {quoted(self.argument.strip())} for owner"
        return f"{ACTIONS[self.kind]} {quoted(self.argument.strip())}"


@dataclass(frozen=True)
class RuleForm:
    name: str
    trigger: str
    subject: str = ""
    condition: str = ""
    actions: list[ActionRow] = field(default_factory=list)
    delay: str = ""  # a duration, "2h", "1 business day"
    guard: str = ""  # "customer replied or stage changed"
    delayed: list[ActionRow] = field(default_factory=list)

    def text(self) -> str:
        """The rule in the language, as a consultant would write it."""
        if not self.name.strip():
            raise RuleFormError("a rule needs a name")
        if self.trigger not in TRIGGERS:
            raise RuleFormError(f"{self.trigger!r} is not a trigger the form offers")
        if not self.actions and not (self.delay and self.delayed):
            raise RuleFormError("a rule needs at least one action")
        trigger = self.trigger
        if TRIGGERS[trigger] and self.subject.strip():
            trigger += " " + quoted(self.subject.strip())
        elif trigger in SUBJECT_REQUIRED:
            raise RuleFormError(f"'{trigger}' needs {SUBJECT_REQUIRED[trigger]}")
        lines = [f"rule {quoted(self.name.strip())}", f"when {trigger}"]
        if self.condition.strip():
            lines.append(f"if {self.condition.strip()}")
        if self.actions:
            lines.append("then")
            lines += [f"  {row.line()}" for row in self.actions]
        if self.delay.strip():
            if not self.delayed:
                raise RuleFormError("a delay needs at least one action")
            after = f"after {self.delay.strip()}"
            if self.guard.strip():
                after += f" unless {self.guard.strip()}"
            lines.append(after)
            lines += [f"  {row.line()}" for row in self.delayed]
        lines.append("end")
        return "\n".join(lines) + "\n"


def append_rule(text: str, rule: str) -> str:
    """`text` with `rule` added at its end, after one blank line; nothing else changes."""
    if not text.strip():
        return rule
    if not text.endswith("\n"):
        text += "\n"
    if not text.endswith("\n\n"):
        text += "\n"
    return text + rule
