"""Contacts, their identities over time, and companies (DESIGN "The customer record")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from engine.db import workspace_session
from engine.identity import change_address, find_contact, identify
from engine.models import Company, Contact, Identity
from tests.records.moments import NOW


def test_a_contact_with_two_whatsapp_identities(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "254712345678", NOW, profile_name="Wanjiru")
        session.add(
            Identity(contact=contact, channel="whatsapp", address="+254722000111", valid_from=NOW)
        )
        session.commit()
        contact_id = contact.id

    with workspace_session(db, workspace_id) as session:
        by_first = find_contact(session, "whatsapp", "+254712345678")
        by_second = find_contact(session, "whatsapp", "+254722000111")
        assert by_first is not None and by_second is not None
        assert by_first.id == by_second.id == contact_id
        assert sorted(i.address for i in by_first.current_identities("whatsapp")) == [
            "+254712345678",
            "+254722000111",
        ]
        # Meeting the same number again, spelled differently, finds the same person.
        again = identify(session, "whatsapp", "+254 712 345 678", NOW)
        assert again.id == contact_id
        assert session.scalar(select(Contact.id).where(Contact.id == contact_id)) == contact_id


def test_a_number_change_keeps_the_contact_and_its_history(db: Engine, workspace_id: int) -> None:
    changed_at = NOW + timedelta(days=30)
    with workspace_session(db, workspace_id) as session:
        contact = identify(session, "whatsapp", "+254712345678", NOW)
        old = contact.current_identities("whatsapp")[0]
        new = change_address(session, old, "254733444555", changed_at)
        session.commit()
        contact_id = contact.id

    with workspace_session(db, workspace_id) as session:
        assert find_contact(session, "whatsapp", "+254712345678") is None
        found = find_contact(session, "whatsapp", "+254733444555")
        assert found is not None and found.id == contact_id
        history = [(i.address, i.valid_from, i.valid_to, i.is_current) for i in found.identities]
        assert history == [
            ("+254712345678", NOW, changed_at, False),
            ("+254733444555", changed_at, None, True),
        ]
        assert new.contact_id == contact_id

        # The old number, now free, may later belong to someone else entirely.
        stranger = identify(session, "whatsapp", "+254712345678", changed_at + timedelta(days=1))
        session.commit()
        assert stranger.id != contact_id


def test_one_address_has_one_current_holder(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        first = identify(session, "whatsapp", "+254712345678", NOW)
        session.commit()
        second = Contact(name="Impostor")
        session.add(
            Identity(contact=second, channel="whatsapp", address="+254712345678", valid_from=NOW)
        )
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert find_contact(session, "whatsapp", "+254712345678") == first


def test_a_current_identity_is_open_and_a_closed_one_is_not(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        contact = Contact(name="Achieng")
        session.add(
            Identity(
                contact=contact,
                channel="phone",
                address="+254712345678",
                valid_from=NOW,
                valid_to=NOW + timedelta(days=1),
                is_current=True,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_company_with_three_contacts(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        company = Company(name="Mama Mboga Distributors", fields={"route": "Kisumu"})
        for name in ("Otieno", "Akinyi", "Kamau"):
            session.add(Contact(name=name, company=company))
        session.add(Contact(name="Not on the payroll"))
        session.commit()
        company_id = company.id

    with workspace_session(db, workspace_id) as session:
        company = session.get_one(Company, company_id)
        assert sorted(c.name or "" for c in company.contacts) == ["Akinyi", "Kamau", "Otieno"]
        assert all(c.company is company for c in company.contacts)
        assert company.fields == {"route": "Kisumu"}
