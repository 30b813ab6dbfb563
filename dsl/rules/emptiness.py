"""Which fields a message may read as empty when its rule acts (W104).

A customer must never read `…Electronics:  for KES .`: at run time a message
with an empty value is held for staff instead of sent. This warns the consultant
beforehand, wherever a template or text variable reads something that nothing
guarantees: a custom field, or a business object's field when the rule does not
know the object exists. The rule's own condition is the guarantee: `order.stage
is "capture"` means the order exists and has a stage, `order.amount > 0` that it
has an amount, `contact.kra_pin is not empty` that the PIN is there.
"""

from __future__ import annotations

from dsl.rules import ast
from dsl.rules.fields import ALWAYS_ROOTS, Catalog

# Built-in fields Kazi always fills for the conversation, the contact and an object.
_ALWAYS_FILLED = {
    "conversation": {
        "id", "status", "priority", "channel", "number", "phone_number", "opened_at",
        "messages", "tags", "waiting_on",
    },
    "contact": {"id", "name", "first_name", "phone", "created_at", "conversations", "tags"},
    "object": {"id", "kind", "reference", "status", "created_at"},
}  # fmt: skip


def guaranteed(condition: ast.Expr | None) -> set[str]:
    """Dotted fields the condition proves are filled when the rule acts."""
    found: set[str] = set()
    if condition is None:
        return found
    parts = condition.items if isinstance(condition, ast.And) else (condition,)
    for part in parts:
        if isinstance(part, ast.Compare) and part.op != "!=":
            for side, other in ((part.left, part.right), (part.right, part.left)):
                if isinstance(side, ast.Field) and not isinstance(other, ast.Field):
                    found.add(side.dotted)
        elif isinstance(part, ast.IsEmpty) and part.negated:
            if isinstance(part.subject, ast.Field):
                found.add(part.subject.dotted)
        elif isinstance(part, ast.In) and not part.negated:
            if isinstance(part.value, ast.Field):
                found.add(part.value.dotted)
        elif isinstance(part, ast.Field):
            found.add(part.dotted)  # `if order.on_credit`: true, so filled
    return found


def may_be_empty(
    field: ast.Field,
    catalog: Catalog,
    event_roots: frozenset[str],
    proven: set[str],
    known_objects: set[str],
) -> bool:
    """True when nothing guarantees `field` has a value at the moment the message is made."""
    root = field.root
    if field.dotted in proven or root in event_roots or root == "event":
        return False
    if len(field.parts) != 2:
        return True
    name = field.parts[1]
    if root in ALWAYS_ROOTS:
        return name not in _ALWAYS_FILLED[root]
    if root in catalog.object_kinds:
        if root not in known_objects:
            return True
        return name not in _ALWAYS_FILLED["object"]
    return False


def known_objects(trigger: ast.Trigger, proven: set[str], stage_kinds: dict[str, str]) -> set[str]:
    """Object kinds the rule knows are linked: named in its condition, or whose pipeline's
    stage the trigger is about."""
    kinds = {dotted.split(".", 1)[0] for dotted in proven}
    if trigger.kind in ("stage_entered", "stage_left") and trigger.subject is not None:
        kind = stage_kinds.get(trigger.subject.value)
        if kind is not None:
            kinds.add(kind)
    return kinds
