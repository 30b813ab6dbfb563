"""Contacts in and out of Kazi: added by hand, imported from a list, exported by segment,
and the consent that decides who the business may write to first."""

from engine.contacts.consent import (
    ConsentRefused,
    ConsentSource,
    ConsentView,
    consent_history,
    consent_of,
    record_consent,
    why_not_reachable,
)
from engine.contacts.csv_import import (
    ImportPlan,
    ImportResult,
    Target,
    apply_import,
    guess_mapping,
    plan_import,
    read_contact_list,
)
from engine.contacts.numbers import TypedNumber, region_of, typed_number
from engine.contacts.people import (
    NewContact,
    add_contact,
    add_number,
    contact_tags,
    correct_number,
    set_contact_tags,
)
from engine.contacts.segments import ContactRow, Segment, contact_rows, export_segment

__all__ = [
    "ConsentRefused",
    "ConsentSource",
    "ConsentView",
    "ContactRow",
    "ImportPlan",
    "ImportResult",
    "NewContact",
    "Segment",
    "Target",
    "TypedNumber",
    "add_contact",
    "add_number",
    "apply_import",
    "consent_history",
    "consent_of",
    "contact_rows",
    "contact_tags",
    "correct_number",
    "export_segment",
    "guess_mapping",
    "plan_import",
    "read_contact_list",
    "record_consent",
    "region_of",
    "set_contact_tags",
    "typed_number",
    "why_not_reachable",
]
