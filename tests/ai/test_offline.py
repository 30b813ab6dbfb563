"""The offline provider: each of the five jobs on English and Swahili, and the same answer twice."""

from __future__ import annotations

from datetime import date

from engine.core.ai import (
    ActionKind,
    Author,
    ClassifyRequest,
    DraftRequest,
    ExtractRequest,
    FieldKind,
    OfflineProvider,
    SuggestRequest,
    SummariseRequest,
    Thread,
    ThreadLine,
)
from tests.ai.samples import sample_config

FRIDAY = date(2026, 12, 4)


def provider() -> OfflineProvider:
    return OfflineProvider(sample_config())


def test_classifies_english_and_swahili_and_says_unclear_otherwise() -> None:
    ai = provider()
    english = ai.classify(ClassifyRequest("How much is the galaxy a15?"))
    swahili = ai.classify(ClassifyRequest("Bei ya hisense tv ni ngapi"))
    unclear = ai.classify(ClassifyRequest("hello there"))
    assert (english.intent, english.language) == ("price", "en")
    assert (swahili.intent, swahili.language) == ("price", "sw")
    assert swahili.confidence > english.confidence > 0
    assert "bei" in swahili.evidence
    assert unclear.intent is None and unclear.confidence == 0


def test_extracts_each_kind_of_detail() -> None:
    text = (
        "Can you deliver 2 a15 to Westlands tomorrow at 3pm? "
        "My number is 0712 345 678 and I pay KES 37,000"
    )
    extraction = provider().extract(ExtractRequest(text, FRIDAY))
    found = {(f.kind, f.value) for f in extraction.fields}
    assert (FieldKind.PHONE, "+254712345678") in found
    assert (FieldKind.AMOUNT, "37000 KES") in found
    assert (FieldKind.TIME, "15:00") in found
    assert (FieldKind.DATE, "2026-12-05") in found
    assert (FieldKind.PLACE, "Westlands") in found
    product = extraction.first(FieldKind.PRODUCT)
    assert product is not None and (product.value, product.quantity) == ("Samsung Galaxy A15", 2)


def test_extracts_swahili_time_count_and_shilling_suffix() -> None:
    extraction = provider().extract(
        ExtractRequest("Nataka hisense tv mbili kesho saa tisa, nitalipa 1500/-", FRIDAY)
    )
    found = {(f.kind, f.value) for f in extraction.fields}
    assert (FieldKind.TIME, "15:00") in found  # the ninth hour of the day
    assert (FieldKind.DATE, "2026-12-05") in found
    assert (FieldKind.AMOUNT, "1500 KES") in found
    product = extraction.first(FieldKind.PRODUCT)
    assert product is not None and product.quantity == 2


def test_a_quantity_with_a_unit_and_no_product() -> None:
    extraction = provider().extract(ExtractRequest("send 12 cartons on monday", FRIDAY))
    assert extraction.first(FieldKind.QUANTITY).value == "12 cartons"  # type: ignore[union-attr]
    assert extraction.first(FieldKind.DATE).value == "2026-12-07"  # type: ignore[union-attr]


THREAD = Thread(
    (
        ThreadLine(Author.CUSTOMER, "Hi, how much is the galaxy a15? I am in Westlands."),
        ThreadLine(Author.AGENT, "Let me check.", name="Wanjiru"),
        ThreadLine(Author.CUSTOMER, "ok"),
        ThreadLine(Author.CUSTOMER, "Can you deliver it tomorrow at 3pm?"),
    ),
    contact_name="Akinyi Otieno",
    today=FRIDAY,
)


def test_summary_keeps_the_request_and_where_it_stands_in_order() -> None:
    summary = provider().summarise(SummariseRequest(THREAD, max_sentences=3))
    assert summary.sentences == (
        "Customer: Hi, how much is the galaxy a15?",
        "Customer: I am in Westlands.",
        "Customer: Can you deliver it tomorrow at 3pm?",
    )
    assert 0 < summary.confidence <= 1


def test_draft_quotes_only_knowledge_and_cites_it() -> None:
    draft = provider().draft(DraftRequest(THREAD, "Wanjiru Kamau"))
    assert draft.text.startswith("Hi Akinyi! The Samsung")
    assert "KES 18,500 each" in draft.text and "Westlands is KES 300, same day" in draft.text
    assert [c.key for c in draft.citations] == ["price:Samsung Galaxy A15", "delivery:Westlands"]
    assert all(c.text in draft.text for c in draft.citations)


def test_draft_in_swahili_quotes_the_price_in_swahili() -> None:
    thread = Thread((ThreadLine(Author.CUSTOMER, "Bei ya hisense tv ni ngapi?"),), "Juma Ali")
    draft = provider().draft(DraftRequest(thread))
    assert draft.text == "Habari Juma! Hisense 43 inch TV ni KES 32,000."
    assert [c.file for c in draft.citations] == ["knowledge.yaml"]


def test_draft_falls_back_to_the_intents_quick_reply_in_the_customers_language() -> None:
    thread = Thread((ThreadLine(Author.CUSTOMER, "Bei ya iphone 15 ni ngapi?"),), "Juma Ali")
    draft = provider().draft(DraftRequest(thread))
    assert draft.text == "Habari Juma, nacheki stoki."
    assert [(c.file, c.key) for c in draft.citations] == [("replies.yaml", "reply:/price")]


def test_draft_with_nothing_approved_to_say_invents_nothing() -> None:
    thread = Thread((ThreadLine(Author.CUSTOMER, "Do you have the iPhone 15?"),), "Juma")
    draft = provider().draft(DraftRequest(thread))
    assert draft.citations == () and draft.confidence < 0.3
    assert "check" in draft.text and "KES" not in draft.text


def test_draft_quotes_a_policy_the_intent_names() -> None:
    thread = Thread((ThreadLine(Author.CUSTOMER, "my phone is broken, warranty?"),), "Juma")
    draft = provider().draft(DraftRequest(thread))
    assert "12-month warranty" in draft.text
    assert [c.key for c in draft.citations] == ["policy:warranty"]


def test_suggests_the_intents_stage_only_when_the_pipeline_allows_it() -> None:
    ai = provider()
    price = ai.classify(ClassifyRequest("How much is the galaxy a15?"))
    extraction = ai.extract(ExtractRequest("2 galaxy a15 please"))
    move = ai.suggest(SuggestRequest("inquiry", ("quote", "lost"), "us", price, None, ("order",)))
    assert (move.action, move.argument) == (ActionKind.MOVE_STAGE, "quote")
    no_move = ai.suggest(
        SuggestRequest("payment", ("fulfilment",), "us", price, extraction, ("order",))
    )
    assert no_move.action is ActionKind.PREPARE_ORDER
    reply = ai.suggest(SuggestRequest("payment", ("fulfilment",), "us", price, None, ()))
    assert reply.action is ActionKind.REPLY


def test_every_job_gives_the_same_answer_every_time() -> None:
    first, second = provider(), provider()
    text = "Nataka galaxy a15 mbili, tuma Thika kesho"
    assert first.classify(ClassifyRequest(text)) == second.classify(ClassifyRequest(text))
    assert first.extract(ExtractRequest(text, FRIDAY)) == second.extract(
        ExtractRequest(text, FRIDAY)
    )
    assert first.summarise(SummariseRequest(THREAD)) == second.summarise(SummariseRequest(THREAD))
    assert first.draft(DraftRequest(THREAD)) == second.draft(DraftRequest(THREAD))
