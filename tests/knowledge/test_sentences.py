"""Where a description's passages end (knowledge/search/sentences.py), in the seven languages.

Each sentence is a passage of the item's dense vector: a cut at "St." turned "Paul's ward)."
into a passage of five Toronto branches (tests/knowledge/data/real, OGL-Toronto). The texts
below are written by us, after the kinds of description the catalogs hold.
"""

from __future__ import annotations

import pytest

from knowledge.documents import CatalogItem
from knowledge.search.fields import passages

CASES = [
    (  # the real catalog's case: an abbreviation inside brackets
        "Library in the Casa Loma neighbourhood (Toronto-St. Paul's ward). 12 public computers.",
        [
            "Library in the Casa Loma neighbourhood (Toronto-St. Paul's ward).",
            "12 public computers.",
        ],
    ),
    (
        "Mr. and Mrs. Smith host the club. Everyone is welcome.",
        ["Mr. and Mrs. Smith host the club.", "Everyone is welcome."],
    ),
    (
        "Dr. Chen teaches on Mondays. Bring a laptop.",
        ["Dr. Chen teaches on Mondays.", "Bring a laptop."],
    ),
    (
        "Bring art supplies, e.g. brushes and paper. Materials are provided.",
        ["Bring art supplies, e.g. brushes and paper.", "Materials are provided."],
    ),
    (
        "Room No. 5 on the second floor. Wheelchair accessible.",
        ["Room No. 5 on the second floor.", "Wheelchair accessible."],
    ),
    (
        "Lillian H. Smith branch hosts it. Entry is free.",
        ["Lillian H. Smith branch hosts it.", "Entry is free."],
    ),
    (
        "Tickets cost 3.50 dollars each. Doors open at 10.30 sharp.",
        ["Tickets cost 3.50 dollars each.", "Doors open at 10.30 sharp."],
    ),
    (
        "Starts at 10 a.m. and ends at noon. Class starts at 10 a.m. Bring a laptop.",
        ["Starts at 10 a.m. and ends at noon.", "Class starts at 10 a.m.", "Bring a laptop."],
    ),
    (
        "Details at www.tpl.ca or info@tpl.ca today. Call us for help.",
        ["Details at www.tpl.ca or info@tpl.ca today.", "Call us for help."],
    ),
    (
        "Wait for it... the results are great. Pens, paper, etc. The room opens at noon.",
        ["Wait for it... the results are great.", "Pens, paper, etc.", "The room opens at noon."],
    ),
    (
        'The teacher said "Practice daily." Then we start over.',
        ['The teacher said "Practice daily."', "Then we start over."],
    ),
    (
        "Open daily (closed Mon. and Fri. Holidays vary.) for all ages. Call ahead.",
        ["Open daily (closed Mon. and Fri. Holidays vary.) for all ages.", "Call ahead."],
    ),
    (  # a very short piece is joined to its neighbour, before or after
        "Chess club for teens. Free! Bring a friend.",
        ["Chess club for teens. Free!", "Bring a friend."],
    ),
    ("Free. Chess club for teens on Fridays.", ["Free. Chess club for teens on Fridays."]),
    (
        "老师说：“每天练习。”然后开始上课！欢迎参加，免费报名吗？",
        ["老师说：“每天练习。”", "然后开始上课！", "欢迎参加，免费报名吗？"],
    ),
    (
        "يقدم د. أحمد دروسا في الحاسوب، والطباعة. هل تريد التسجيل؟ اتصل بنا اليوم.",
        ["يقدم د. أحمد دروسا في الحاسوب، والطباعة.", "هل تريد التسجيل؟", "اتصل بنا اليوم."],
    ),
    (
        "Занятия по адресу ул. Ленина, д. 5, в г. Москва. Библиотека им. Пушкина открыта. "
        "Приходите!",
        [
            "Занятия по адресу ул. Ленина, д. 5, в г. Москва.",
            "Библиотека им. Пушкина открыта. Приходите!",
        ],
    ),
    ("Книги, журналы и т. д. Всё бесплатно.", ["Книги, журналы и т. д.", "Всё бесплатно."]),
    (
        "Бібліотека на вул. Хрещатик відкрита щодня. Вхід вільний.",
        ["Бібліотека на вул. Хрещатик відкрита щодня.", "Вхід вільний."],
    ),
    (
        "La Sra. López enseña en la av. de la Constitución. Inscripción gratuita.",
        ["La Sra. López enseña en la av. de la Constitución.", "Inscripción gratuita."],
    ),
    (
        "Mme Dupont anime l'atelier au 12 bd. Saint-Michel. Entrée libre.",
        ["Mme Dupont anime l'atelier au 12 bd. Saint-Michel.", "Entrée libre."],
    ),
]


@pytest.mark.parametrize(("description", "expected"), CASES)
def test_a_description_is_cut_at_its_sentence_ends_only(
    description: str, expected: list[str]
) -> None:
    item = CatalogItem(id="x", type="course", name="Club", description=description)
    assert passages(item) == ["Club", *expected]


def test_a_description_whose_teaching_language_is_left_out_is_still_cut() -> None:
    course = CatalogItem(
        id="c",
        type="course",
        name="Pottery",
        description="Taught in English by Dr. Chen. Wheel throwing and glazing on Saturdays.",
        languages=("en",),
    )
    assert passages(course) == [
        "Pottery",
        "taught in by dr. chen.",  # the words are left out after the cut, which keeps "Dr."
        "Wheel throwing and glazing on Saturdays.",  # nothing left out: case kept
    ]
