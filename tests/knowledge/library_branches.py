"""SYNTHETIC test catalog: 100 branches of an invented city's public library.

Written for the search tests, not taken from any real catalog (issue 11 asks for a real,
openly licensed one; until it is added this one has the same shape: one kind of item, the
word "library" in every description, English only, names and street addresses that questions name).
Every name, address and coordinate here is made up.
"""

from __future__ import annotations

from knowledge.documents import CatalogItem

_FIRST = ("Ash", "Bel", "Cor", "Dun", "Elm", "Fair", "Glen", "Hart", "Ivy", "King")
_SECOND = ("ford", "bury", "wood", "field", "dale", "mont", "ridge", "view", "haven", "brook")
_STREET_KINDS = ("Road", "Street", "Avenue", "Lane")
_SERVICES = (
    "Books, magazines and DVDs to borrow, public computers and free Wi-Fi.",
    "A children's corner with story time, homework help and a teen zone.",
    "Quiet study rooms, newspapers and printing.",
    "Computer classes for seniors, job-search help and a community meeting room.",
    "A makerspace with 3D printers and a sewing machine, plus a seed library.",
)
ALBION_ID = "https://library.example.org/branches/albion"
ALBION_STREET_NEIGHBOUR_ID = "https://library.example.org/branches/glenview"


def library_branches() -> list[CatalogItem]:
    """The 100 branches, the same every time; "Albion" is branch 0, at 1515 Albion Road."""
    names = [first + second for first in _FIRST for second in _SECOND]
    names[0] = "Albion"
    items = []
    for number, neighbourhood in enumerate(names):
        street = names[(number * 37 + 11) % len(names)]
        address = f"{(number * 53) % 1900 + 20} {street} {_STREET_KINDS[number % 4]}"
        if neighbourhood == "Albion":
            address = "1515 Albion Road"
        if neighbourhood == "Glenview":  # a neighbour on a street of the same name
            address = "22 Albion Street"
        description = (
            f"Public library branch. {_SERVICES[number % len(_SERVICES)]} "
            "Library card holders can borrow and return items from any library branch."
        )
        if neighbourhood == "Albion":  # described by what it does, not as "a library"
            description = (
                "Neighbourhood hub with conversation circles for newcomers, free tax clinics, "
                "a seed exchange and a community garden."
            )
        items.append(
            CatalogItem(
                id=f"https://library.example.org/branches/{neighbourhood.lower()}",
                type="space",
                name=neighbourhood,  # as big-city libraries publish them: "Albion", "Agincourt"
                description=description,
                place_name=f"{neighbourhood} Library",
                address=address,
                languages=("en",),
                latitude=31.15 + (number % 10) * 0.016,
                longitude=121.39 + (number // 10) * 0.016,
                opening_hours="Mo-Sa 10:00-20:00",
            )
        )
    return items
