"""Write the Word document of the structured-documents question set (``benchmarks/data/structured``).

    python benchmarks/make_structured_docs.py      # rewrites documents/travel-policy.docx

The other documents of the set are plain files, written by hand: a Markdown HR policy with a
leave table and a numbered procedure, a plain-text router manual with numbered sections, a
status-light list and a reset procedure with its warning, an HTML IT wiki page with a printer
table and an ordered VPN procedure, and a public PDF report (``GeoBase_NHNC1_Data_Model_UML_EN.pdf``,
from the pypdf project's test resources, BSD-3-Clause repository). The Word document is written
here with python-docx so that it can be rebuilt: a title in the core properties, headings, a
per-diem table with a header row and bulleted booking steps. Fixed timestamps keep the file the
same on every run.
"""

from __future__ import annotations

import datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "structured" / "documents" / "travel-policy.docx"


def main() -> None:
    import docx

    d = docx.Document()
    props = d.core_properties
    props.title = "Business Travel Policy"
    props.author = "Finance"
    props.created = props.modified = datetime.datetime(2026, 1, 5, 9, 0, 0)
    d.add_heading("Business Travel Policy", level=0)
    d.add_paragraph("This policy covers travel booked for Northwind Traders business, in the UK and abroad.")
    d.add_heading("Booking travel", level=1)
    d.add_paragraph("Book every trip through the travel desk, so that the company knows where you are in an emergency.")
    for step in (
        "Get your manager's approval for the trip by email.",
        "Send the approval and your dates to travel@northwind.example at least ten days before departure.",
        "Check the itinerary the travel desk sends you and confirm it within 24 hours.",
    ):
        d.add_paragraph(step, style="List Bullet")
    d.add_paragraph("Rail is the default for journeys under four hours. Flights in economy class are allowed for longer journeys.")
    d.add_heading("Hotel and meal allowances", level=1)
    d.add_paragraph("The company pays hotel costs up to the nightly limit below and a daily meal allowance.")
    table = d.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("City", "Hotel per night", "Meals per day")):
        cell.text = text
    for row in (("London", "180 pounds", "45 pounds"), ("Manchester", "120 pounds", "35 pounds"),
                ("Paris", "190 euros", "50 euros"), ("Other cities", "100 pounds", "30 pounds")):
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text
    d.add_paragraph("Costs above the limits are paid only with the written approval of a director.")
    d.add_heading("Claiming expenses", level=1)
    d.add_paragraph("Submit your claim with receipts in the expenses system within 30 days of your return. "
                    "Claims are reimbursed with the next monthly salary.")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    d.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
