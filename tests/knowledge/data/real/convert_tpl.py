"""Convert Toronto Public Library's "Library Branch General Information" to learncity CSV.

    .venv/bin/python tests/knowledge/data/real/convert_tpl.py

Reads `_source/tpl-branch-general-information.csv` (the dataset as Open Data Toronto serves it)
and writes `tpl_branches.csv` next to it: the 100 physical branches as learning spaces. The
dataset has no free text, so each description is built from its published fields (service
tier, neighbourhood, ward, programmes offered, computers, parking); SOURCE.md says what changed.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "_source" / "tpl-branch-general-information.csv"
TARGET = HERE / "tpl_branches.csv"
COLUMNS = ["id", "type", "name", "description", "languages", "free", "place_name", "address"]
COLUMNS += ["district", "latitude", "longitude", "url", "organizer"]

TIERS = {
    "DL": "District library",
    "NL": "Neighbourhood library",
    "RR": "Research and reference library",
}
# What each programme column means, in the library's own words, shortened.
PROGRAMMES = {
    "KidsStop": "KidsStop early literacy centre: interactive play and learning for children "
    "up to five and their caregivers.",
    "LeadingReading": "Leading to Reading: free one-to-one reading and writing help from "
    "volunteer tutors for children in grades 1 to 6.",
    "CLC": "Computer Learning Centre: free computer and internet classes.",
    "DIH": "Digital Innovation Hub: 3D printers, audio and video recording equipment and "
    "design software.",
    "TeenCouncil": "Teen Council: teens plan programs for their branch and earn volunteer hours.",
    "YouthHub": "Youth Hub: a free after-school drop-in space for teens aged 13 to 19, with "
    "snacks, homework help and activities.",
    "AdultLiteracyProgram": "Adult Literacy Program: free one-to-one tutoring for adults "
    "improving their reading, writing and math.",
}


def _parking(value: str) -> str:
    value = value.strip()
    if value == "shared":
        return "Shared parking."
    if value in ("", "0"):
        return "No public parking."
    return f"{value} parking spaces."


def _description(row: dict[str, str]) -> str:
    parts = [
        f"{TIERS[row['ServiceTier']]} of Toronto Public Library in the "
        f"{row['NBHDName'].strip()} neighbourhood ({row['WardName'].strip()} ward)."
    ]
    parts += [text for column, text in PROGRAMMES.items() if row[column] == "1"]
    parts.append(f"{row['Workstations']} public computers. {_parking(row['PublicParking'])}")
    return " ".join(parts)


def convert() -> list[dict[str, str]]:
    """The physical branches as learncity CSV rows, in the dataset's order."""
    with SOURCE.open(encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["PhysicalBranch"] == "1"]
    return [
        {
            "id": f"tpl-branch-{row['BranchCode'].lower()}",
            "type": "space",
            "name": row["BranchName"].strip(),
            "description": _description(row),
            "languages": "en",
            "free": "yes",
            "place_name": f"{row['BranchName'].strip()} branch, Toronto Public Library",
            "address": row["Address"].strip(),
            "district": row["WardName"].strip(),
            "latitude": row["Lat"].strip(),
            "longitude": row["Long"].strip(),
            "url": row["Website"].strip().replace("tpl.ca.ca", "tpl.ca"),
            "organizer": "Toronto Public Library",
        }
        for row in rows
    ]


def main() -> None:
    rows = convert()
    with TARGET.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} branches written to {TARGET.name}")


if __name__ == "__main__":
    main()
