"""The offer as a PDF (fpdf2): letterhead from settings, customer, lines with options and bundle
parts, totals per VAT rate, terms, validity and version."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from offers.config import Settings
from offers.domain.money import minor_units
from offers.schemas import OfferDocument

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
    "/Library/Fonts",
)
INCOTERMS_EDITION = "Incoterms® 2020"


@lru_cache(maxsize=4)
def _font_files(configured: str | None) -> tuple[str, str] | None:
    """(regular, bold) TrueType files for full Unicode, or None for the core Helvetica
    (``document_font="helvetica"``, or when no TrueType font is found)."""
    if configured == "helvetica":
        return None
    if configured:
        regular = Path(configured)
        bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
        if regular.is_file():
            return str(regular), str(bold if bold.is_file() else regular)
    for folder in _FONT_DIRS:
        regular = Path(folder) / "DejaVuSans.ttf"
        if regular.is_file():
            bold = Path(folder) / "DejaVuSans-Bold.ttf"
            return str(regular), str(bold if bold.is_file() else regular)
    return None


def _amount(value: Decimal, currency: str) -> str:
    places = minor_units(currency)
    return f"{value:,.{places}f}"


def _number(value: Decimal) -> str:
    normal = value.normalize()
    return format(normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal, "f")


class _OfferPdf(FPDF):
    def __init__(self, settings: Settings, title: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.settings = settings
        self.doc_title = title
        fonts = _font_files(settings.document_font)
        if fonts:
            self.add_font("Body", "", fonts[0])
            self.add_font("Body", "B", fonts[1])
            self.family, self.unicode = "Body", True
        else:
            self.family, self.unicode = "helvetica", False
        self.set_auto_page_break(auto=True, margin=25)
        self.set_margins(18, 18, 18)
        self.set_title(title)
        self.set_author(settings.company_name)
        self.set_creator("Salesflow offers")

    def text_of(self, value: object) -> str:
        text = "" if value is None else str(value)
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")  # core fonts: Latin-1 only

    def font(self, size: float = 9, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def line_text(self, text: object, size: float = 9, bold: bool = False, h: float = 4.5) -> None:
        self.font(size, bold)
        self.multi_cell(0, h, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header(self) -> None:
        s = self.settings
        self.font(14, bold=True)
        self.cell(0, 7, self.text_of(s.company_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(8)
        parts = [" · ".join(s.company_address), s.company_contact or ""]
        if s.company_vat_id:
            parts.append(f"VAT ID {s.company_vat_id}")
        for part in parts:
            if part:
                self.cell(0, 4, self.text_of(part), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(120, 120, 120)
        self.line(self.l_margin, self.get_y() + 1.5, self.w - self.r_margin, self.get_y() + 1.5)
        self.ln(5)

    def footer(self) -> None:
        self.set_y(-18)
        self.font(7)
        s = self.settings
        bits = [s.company_name, s.company_register or "", s.company_bank or ""]
        self.cell(0, 4, self.text_of(" · ".join(b for b in bits if b)), align="C")
        self.ln(4)
        self.cell(0, 4, self.text_of(f"{self.doc_title} · page {self.page_no()}/{{nb}}"), align="C")


def render_offer_pdf(
    settings: Settings,
    doc: OfferDocument,
    *,
    offer_id: str,
    owner: str,
    sent: bool,
    changes: list[str],
) -> bytes:
    cur = doc.currency
    title = f"Offer {offer_id[:8].upper()} – version {doc.offer_version}"
    pdf = _OfferPdf(settings, title)
    pdf.alias_nb_pages()
    pdf.add_page()

    # recipient
    customer = doc.customer
    address = doc.bill_to
    pdf.line_text(customer.name, 10, bold=True)
    if doc.contact:
        pdf.line_text(
            f"Attn. {doc.contact.name}" + (f", {doc.contact.role}" if doc.contact.role else "")
        )
    if address:
        pdf.line_text(address.street + (f", {address.street2}" if address.street2 else ""))
        pdf.line_text(
            f"{address.postal_code or ''} {address.city}".strip() + f", {address.country}"
        )
    else:
        place = " ".join(p for p in (customer.postal_code, customer.city) if p)
        pdf.line_text(", ".join(p for p in (place, customer.country) if p))
    if customer.vat_id:
        pdf.line_text(f"VAT ID {customer.vat_id}")
    pdf.ln(4)

    # title block
    pdf.line_text(title + ("" if sent else " (DRAFT)"), 13, bold=True, h=7)
    pdf.line_text(f"Offer number: {offer_id}")
    pdf.line_text(f"Date: {doc.priced_on.isoformat()}    Version: {doc.offer_version}")
    pdf.line_text(f"Valid until: {doc.valid_until.isoformat()}    Currency: {cur}")
    pdf.line_text(f"Your contact at {settings.company_name}: {owner}")
    pdf.ln(3)

    # lines
    pdf.font(8)
    widths = (9, 67, 18, 24, 13, 28, 15)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=4,
        first_row_as_headings=True,
        padding=1,
    ) as table:
        heading = table.row()
        for label in ("Pos.", "Item", "Qty", "Unit price", "Disc.", "Net", "VAT %"):
            heading.cell(label)
        for line in doc.lines:
            item = [f"{line.sku} – {line.name}"]
            item += [f"  {o.name}: {o.value}" for o in line.options]
            item += [
                f"  incl. {_number(c.quantity)} {c.unit} {c.sku} {c.name}" for c in line.components
            ]
            if line.tier_discount:
                item.append(f"  volume price (list {_amount(line.list_unit_price, cur)})")
            row = table.row()
            row.cell(str(line.line_no))
            row.cell(pdf.text_of("\n".join(item)))
            row.cell(f"{_number(line.quantity)} {line.unit}")
            row.cell(_amount(line.unit_price, cur))
            row.cell(f"{_number(line.discount_percent)} %" if line.discount_percent else "")
            row.cell(_amount(line.net, cur))
            row.cell(_number(line.tax_rate))
    pdf.ln(3)

    # totals per VAT rate
    totals = doc.totals
    pdf.font(9)
    label_w, value_w = 130, 44

    def total_row(label: str, value: Decimal, bold: bool = False) -> None:
        pdf.font(9, bold)
        pdf.cell(label_w, 5, pdf.text_of(label), align="R")
        pdf.cell(
            value_w,
            5,
            f"{_amount(value, cur)} {cur}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    total_row("Net total", totals.net.amount, bold=True)
    if doc.discount_percent:
        pdf.font(8)
        pdf.cell(
            label_w + value_w,
            4,
            pdf.text_of(f"includes a document discount of {_number(doc.discount_percent)} %"),
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    for rate in totals.tax_by_rate:
        total_row(
            f"VAT {_number(rate.rate)} % on {_amount(rate.net.amount, cur)} {cur}",
            rate.tax.amount,
        )
    total_row("VAT total", totals.tax.amount)
    total_row("Total", totals.gross.amount, bold=True)
    pdf.ln(4)

    # terms, validity, notes, changes
    terms = doc.terms
    pdf.line_text("Terms", 10, bold=True)
    if terms.payment_terms or terms.payment_days is not None:
        days = f"{terms.payment_days} days net" if terms.payment_days is not None else ""
        pdf.line_text(f"Payment: {terms.payment_terms or days}")
    if terms.incoterms:
        place = f" {terms.incoterms_place}" if terms.incoterms_place else ""
        pdf.line_text(f"Delivery: {terms.incoterms.value}{place} ({INCOTERMS_EDITION})")
    if terms.requested_delivery_date:
        pdf.line_text(f"Requested delivery: {terms.requested_delivery_date.isoformat()}")
    pdf.line_text(
        f"This offer is valid until {doc.valid_until.isoformat()}. Prices in {cur}, "
        "net of VAT unless stated otherwise."
    )
    if doc.notes:
        pdf.ln(2)
        pdf.line_text("Notes", 10, bold=True)
        pdf.line_text(doc.notes)
    if changes:
        pdf.ln(2)
        pdf.line_text(f"Changes from version {doc.offer_version - 1}", 10, bold=True)
        for change in changes:
            pdf.line_text(f"• {change}" if pdf.unicode else f"- {change}")
    return bytes(pdf.output())
