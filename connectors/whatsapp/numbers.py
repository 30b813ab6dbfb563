"""WhatsApp ids that name the same person in different number forms.

Meta reports the wa_id an account was registered with, which for some countries is
not the form people (or a CRM's import) write the number in:

- Brazil (55): mobiles gained a ninth digit, `55 DD 9 XXXXXXXX`, but many accounts
  are still registered as `55 DD XXXXXXXX`.
- Argentina (54): inbound ids carry the mobile marker, `54 9 XXXXXXXXXX`, while the
  number is also written `54 XXXXXXXXXX`.
- Mexico (52): inbound ids carry the legacy mobile `1`, `52 1 XXXXXXXXXX`, against the
  E.164 form `52 XXXXXXXXXX`.

The engine looks a contact up by every form, so one person never becomes two.
"""

from __future__ import annotations

import re


def equivalent_wa_ids(wa_id: str) -> set[str]:
    """Every form of `wa_id` that may belong to the same WhatsApp account, itself included.

    Symmetric: if `b` is in `equivalent_wa_ids(a)` then `a` is in `equivalent_wa_ids(b)`.
    Anything that is not plain digits is returned alone (a BSUID, a typo).
    """
    forms = {wa_id}
    if not wa_id.isdigit() or not wa_id.isascii():
        return forms
    if wa_id.startswith("55"):
        area, subscriber = wa_id[2:4], wa_id[4:]
        if len(wa_id) == 13 and subscriber.startswith("9"):
            forms.add("55" + area + subscriber[1:])
        elif len(wa_id) == 12:
            forms.add("55" + area + "9" + subscriber)
    elif wa_id.startswith("54"):
        if len(wa_id) == 13 and wa_id[2] == "9":
            forms.add("54" + wa_id[3:])
        elif len(wa_id) == 12:
            forms.add("549" + wa_id[2:])
    elif wa_id.startswith("52"):
        if len(wa_id) == 13 and wa_id[2] == "1":
            forms.add("52" + wa_id[3:])
        elif len(wa_id) == 12:
            forms.add("521" + wa_id[2:])
    return forms


_BSUID = re.compile(r"[A-Z]{2}(\.[A-Za-z0-9]+)+")


def is_bsuid(address: str) -> bool:
    """A business-scoped user id (2026 usernames, reference §4 and §10.2): `CC.<alnum>`,
    e.g. `US.13491208655302741918`, a parent one `US.ENT.1181...`. Never a phone number."""
    return _BSUID.fullmatch(address.strip()) is not None
