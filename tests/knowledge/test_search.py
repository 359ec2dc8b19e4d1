"""Search over the sample city with the real embedding model: languages, glossary, unmet demand."""

from __future__ import annotations

from bench.search_catalog import labelled_queries, recall_at
from knowledge.documents import CatalogItem
from knowledge.search import SearchService, is_unmet
from tests.knowledge.search_support import item_id


def _ids(results) -> list[str]:
    return [result.item.id for result in results]


def test_chinese_question_finds_chinese_pottery_courses(sample_service):
    found = _ids(sample_service.search("周末想学陶艺", limit=5))
    assert item_id("courses/pottery-beginners") in found
    assert item_id("courses/pottery-weekday-evening") in found


def test_english_question_finds_python_courses_first(sample_service):
    found = _ids(sample_service.search("python", limit=5))
    assert set(found[:2]) == {
        item_id("courses/python-beginners"),
        item_id("courses/python-data-analysis"),
    }


ONLY_CHINESE = CatalogItem(
    id="zh-only",
    type="course",
    name="家庭手语课",
    description="为有听障成员的家庭开设，孩子和家长一起学。",
)
ONLY_ENGLISH = CatalogItem(
    id="en-only",
    type="course",
    name="Knitting Circle",
    description="Scarves and hats; yarn provided.",
)
UNRELATED = CatalogItem(id="other", type="course", name="象棋俱乐部", description="Chess club 象棋")


def test_questions_cross_languages_through_the_glossary(tmp_path):
    service = SearchService(tmp_path / "index")
    service.build([ONLY_CHINESE, ONLY_ENGLISH, UNRELATED])
    english = service.search("sign language class", limit=3)
    assert english[0].item.id == "zh-only" and english[0].matched
    assert not any(r.matched for r in english if r.item.id != "zh-only")
    chinese = service.search("我想学织毛衣", limit=3)
    assert chinese[0].item.id == "en-only" and chinese[0].matched


def test_sample_city_course_in_chinese_found_in_english(sample_service):
    results = sample_service.search("sign language", limit=5)
    assert item_id("courses/sign-language-family") in _ids(results)  # 家庭手语课
    assert all(result.matched for result in results)
    assert item_id("courses/knitting-circle") in _ids(sample_service.search("织毛衣", limit=5))


def test_other_languages_reach_the_catalog_through_the_glossary(sample_service):
    assert item_id("courses/sign-language-basics") in _ids(
        sample_service.search("langue des signes", limit=5)
    )
    assert item_id("courses/pottery-beginners") in _ids(sample_service.search("cerámica", limit=5))


def test_question_with_nothing_in_the_catalog_is_unmet(sample_service):
    for question in ("scuba diving lessons", "潜水课", "beekeeping", "养蜂"):
        results = sample_service.search(question, limit=5)
        assert is_unmet(results), (question, [r.as_dict()["name"] for r in results if r.matched])
    assert not is_unmet(sample_service.search("pottery", limit=5))
    assert is_unmet([])


def test_result_dict_has_the_fields_cards_and_cli_use(sample_service):
    row = sample_service.search("tai chi", limit=1)[0].as_dict()
    for key in ("id", "type", "name", "score", "distance_m", "place", "district", "schedule",
                "free", "price", "latitude", "longitude", "url"):  # fmt: skip
        assert key in row
    assert row["schedule"]
    assert isinstance(row["score"], float)


def test_hybrid_recall_at_5_beats_dense_and_lexical_on_labelled_questions(sample_service):
    queries = [q for q in labelled_queries() if q.relevant]
    assert len(queries) >= 80
    recall = {}
    for mode in ("dense", "lexical", "hybrid"):
        values = [
            recall_at(_ids(sample_service.search(q.query, limit=5, mode=mode)), q.relevant)
            for q in queries
        ]
        recall[mode] = sum(values) / len(values)
    assert recall["hybrid"] >= 0.95, recall
    assert recall["hybrid"] >= recall["dense"] and recall["hybrid"] >= recall["lexical"], recall


PAINTING = CatalogItem(id="ink", type="course", name="国画花鸟", description="水墨国画入门")
PIANO = CatalogItem(id="piano", type="course", name="钢琴启蒙", description="儿童钢琴")
FIRST_AID = CatalogItem(
    id="aid", type="course", name="婴幼儿急救", description="教你怎么做心肺复苏"
)


def test_a_one_character_topic_finds_the_words_that_hold_it(tmp_path):
    service = SearchService(tmp_path / "index")
    service.build([PAINTING, PIANO, FIRST_AID])
    for question, expected in [("画", "ink"), ("我想学画", "ink"), ("有琴课吗", "piano")]:
        results = service.search(question, limit=3)
        assert [r.item.id for r in results if r.matched] == [expected], question


def test_a_one_character_topic_the_catalog_lacks_is_unmet_not_a_list_of_everything(tmp_path):
    service = SearchService(tmp_path / "index")
    service.build([PAINTING, PIANO, FIRST_AID])
    assert is_unmet(service.search("茶", limit=3))
    assert is_unmet(service.search("我想学舞", limit=3))


def test_arabic_words_with_the_article_meet_the_glossary_without_it(sample_service):
    for question in ("أبحث عن دورة في الحاسوب", "والحاسوب"):
        results = sample_service.search(question, limit=5)
        assert not is_unmet(results), question
        assert any("电脑" in r.item.name or "Computer" in r.item.name for r in results if r.matched)
