"""The offer document: a real PDF, opened and its text checked."""

from __future__ import annotations

import io

from offers_testkit import ALICE, BEN, Harness
from pypdf import PdfReader

from offers.document import render_offer_pdf
from offers.schemas import OfferDocument


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_offer_pdf_has_letterhead_customer_lines_totals_terms_and_version(
    svc: Harness,
) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity()
    lines = svc.offer_body(opp)["lines"]
    lines.append({"sku": "STARTER-KIT", "quantity": "2", "discount_percent": "5"})
    offer = await svc.create_offer(
        opp,
        lines=lines,
        bill_to={
            "street": "Hauptstraße 1",
            "postal_code": "80331",
            "city": "München",
            "country": "DE",
        },
    )
    oid = offer["id"]
    assert (await c.post(f"/offers/{oid}/send", headers=ALICE)).status_code == 200
    resp = await c.get(f"/offers/{oid}/document", headers=ALICE)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF-")
    text = _text(resp.content)
    totals = offer["current"]["document"]["totals"]
    for expected in (
        svc.settings.company_name,  # letterhead
        "VAT ID DE123456789",
        "Acme Maschinenbau GmbH",  # customer, with a non-ASCII address
        "Hauptstraße 1",
        "München",
        "Attn. Erika Muster",
        "version 1",
        "LATHE-500",
        "Lathe 500",
        "Voltage: 400V",  # options
        "Engraving: ACME-01",
        "STARTER-KIT",
        "incl. 8 HUR INSTALL-H",  # bundle parts (2 kits × 4 h)
        "VAT 19 % on",  # totals per VAT rate
        "VAT 7 % on",
        f"{float(totals['gross']['amount']):,.2f} EUR",
        "30 days net",  # terms
        "DAP Garching",
        "valid until 2026-04-01",
        "Delivery in 6 weeks after order.",
    ):
        assert expected in text, f"{expected!r} missing from the PDF text:\n{text}"
    assert "DRAFT" not in text

    # a revision is a new document; the first one stays as it was
    revised = await c.post(f"/offers/{oid}/revise", json={"discount_percent": "3"}, headers=ALICE)
    assert revised.status_code == 201
    v2 = _text((await c.get(f"/offers/{oid}/document", headers=ALICE)).content)
    assert "version 2 (DRAFT)" in v2 and "Changes from version 1" in v2
    assert "document discount 0% -> 3%" in v2
    v1 = _text((await c.get(f"/offers/{oid}/document?version=1", headers=ALICE)).content)
    assert "version 1" in v1 and "Changes from version" not in v1
    assert (await c.get(f"/offers/{oid}/document?version=9", headers=ALICE)).status_code == 404
    assert (await c.get(f"/offers/{oid}/document", headers=BEN)).status_code == 404

    # without a Unicode font the core font still renders, characters beyond Latin-1 replaced
    doc = OfferDocument.model_validate(offer["current"]["document"])
    doc = doc.model_copy(update={"notes": "Lieferung nach Łódź"})
    core = svc.settings.model_copy(update={"document_font": "helvetica"})
    text = _text(render_offer_pdf(core, doc, offer_id=oid, owner="alice", sent=True, changes=[]))
    assert "Acme Maschinenbau GmbH" in text and "München" in text
    assert "Lieferung nach ?ód?" in text
