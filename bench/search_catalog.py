"""A deterministic synthetic catalog (mixed Chinese and English) and the labelled query set.

The synthetic items only fill the index to benchmark size; recall is measured on the sample
city, whose items are labelled in tests/knowledge/labelled_queries.yml.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.settings import REPOSITORY_ROOT
from knowledge.city import load_city
from knowledge.documents import CatalogItem, Session

REPOSITORY = Path(__file__).resolve().parent.parent
LABELLED_QUERIES = REPOSITORY / "tests" / "knowledge" / "labelled_queries.yml"
SAMPLE_CITY = REPOSITORY / "knowledge" / "sample_city"

# (English topic, Chinese topic, English words, Chinese words)
_TOPICS = [
    ("Pottery", "陶艺", "clay, wheel throwing and glazing", "揉泥、拉坯和上釉"),
    (
        "Python Programming",
        "Python编程",
        "variables, loops and small projects",
        "变量、循环和小项目",
    ),
    ("Spoken English", "英语口语", "everyday conversation practice", "日常会话练习"),
    ("Mandarin Chinese", "汉语", "pinyin, tones and daily phrases", "拼音、声调和日常用语"),
    ("Sign Language", "手语", "everyday signs and conversation", "常用手语和会话"),
    ("Home Cooking", "烹饪", "classic local dishes", "地方家常菜"),
    (
        "Smartphone Skills",
        "智能手机",
        "messaging, payments and video calls",
        "微信、支付和视频通话",
    ),
    ("Calligraphy", "书法", "brush strokes and regular script", "笔画和楷书"),
    ("First Aid", "急救", "CPR and using an AED", "心肺复苏和AED使用"),
    ("Parenting", "亲子教育", "communication with children", "与孩子沟通"),
    ("Job Seeking", "求职", "CVs and interview practice", "简历和模拟面试"),
    ("Legal Rights", "法律知识", "contracts, tenancy and labour law", "合同、租房和劳动法"),
    ("Photography", "摄影", "composition and light", "构图和光线"),
    ("Tai Chi", "太极拳", "24-form practice in the park", "二十四式太极拳"),
    ("Dance", "舞蹈", "rhythm and simple choreography", "节奏和简单编舞"),
    ("Guitar", "吉他", "chords and strumming", "和弦和扫弦"),
    ("Watercolour Painting", "水彩画", "washes and landscapes", "晕染和风景"),
    ("Reading Club", "读书会", "one book a month", "每月共读一本书"),
    ("Excel", "办公软件", "formulas and pivot tables", "函数和数据透视表"),
    ("Gardening", "园艺", "balcony vegetables", "阳台种菜"),
    ("Yoga", "瑜伽", "stretching and breathing", "拉伸和呼吸"),
    ("Robotics", "机器人", "sensors and motors", "传感器和电机"),
    ("Personal Finance", "家庭理财", "budgets and avoiding scams", "预算和防诈骗"),
    ("Entrepreneurship", "创业", "business plans and funding", "商业计划和融资"),
    ("Knitting", "编织", "scarves and hats", "围巾和帽子"),
    ("Tea Culture", "茶艺", "brewing and tasting", "冲泡和品鉴"),
    ("Chess", "象棋", "openings and tactics", "开局和战术"),
    ("Mental Wellbeing", "心理健康", "stress and mindfulness", "压力和正念"),
    ("Creative Writing", "写作", "short stories and poems", "短篇故事和诗歌"),
    ("Local History", "地方历史", "walks through old streets", "老街漫步"),
]
_LEVELS = [
    ("for Beginners", "入门"),
    ("Intermediate", "进阶"),
    ("Workshop", "工作坊"),
    ("Club", "俱乐部"),
]
# The sample city's districts, (English, Chinese), from its city file.
SAMPLE_CITY_FILE = REPOSITORY_ROOT / "knowledge" / "sample_city" / "city.yml"
_DISTRICTS = [(d.names["en"], d.names["zh"]) for d in load_city(SAMPLE_CITY_FILE).districts]
_PLACES = [("Community Centre", "社区中心"), ("Library", "图书馆"), ("Adult School", "成人学校"),
           ("Cultural Centre", "文化中心"), ("Neighbourhood Hall", "邻里中心")]  # fmt: skip
_AUDIENCES = [
    "adults",
    "seniors",
    "children",
    "parents",
    "youth",
    "migrants",
    "unemployed",
    "women",
]
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_STARTS = ["08:30", "09:30", "10:00", "14:00", "15:30", "18:30", "19:00", "19:30"]


def generated_items(count: int, seed: int = 20260101) -> list[CatalogItem]:
    """`count` plausible courses, spaces and events, the same for the same seed."""
    rng = random.Random(seed)
    items = []
    for number in range(count):
        topic_en, topic_zh, words_en, words_zh = rng.choice(_TOPICS)
        level_en, level_zh = rng.choice(_LEVELS)
        district_en, district_zh = rng.choice(_DISTRICTS)
        place_en, place_zh = rng.choice(_PLACES)
        street = rng.randint(1, 400)
        chinese = rng.random() < 0.5
        kind = rng.choices(["course", "space", "event"], weights=[80, 8, 12])[0]
        day = rng.choice(_DAYS)
        start = rng.choice(_STARTS)
        free = rng.random() < 0.45
        if kind == "space":
            name = (
                f"{district_zh}{place_zh}{street}号"
                if chinese
                else f"{district_en} {place_en} No. {street}"
            )
            description = (
                "开放学习空间，提供自习座位和活动室。"
                if chinese
                else "Open learning space with study seats and activity rooms."
            )
        elif chinese:
            name = f"{topic_zh}{level_zh}（{district_zh}第{number % 97 + 1}期）"
            description = f"在{district_zh}{place_zh}学习{words_zh}，小班教学，欢迎报名。"
        else:
            name = f"{topic_en} {level_en} ({district_en}, group {number % 97 + 1})"
            description = (
                f"Learn {words_en} at the {district_en} {place_en}; small groups, all welcome."
            )
        items.append(
            CatalogItem(
                id=f"https://bench.hailin.example/{kind}/{number}",
                type=kind,  # type: ignore[arg-type]
                name=name,
                description=description,
                topics=(topic_zh if chinese else topic_en.lower(),) if kind != "space" else (),
                languages=("zh",) if chinese else ("en",),
                audiences=tuple(rng.sample(_AUDIENCES, rng.randint(1, 2))),
                free=free,
                price="免费"
                if free and chinese
                else ("free" if free else f"{rng.randint(5, 60) * 10} CNY"),
                place_name=f"{district_zh}{place_zh}" if chinese else f"{district_en} {place_en}",
                district=district_en,
                latitude=31.23 + rng.uniform(-0.09, 0.09),
                longitude=121.47 + rng.uniform(-0.1, 0.1),
                sessions=(Session(f"{day[:3].title()} {start}", (day,), start, None),)
                if kind == "course"
                else (),
                opening_hours="Mo-Su 09:00-21:00" if kind == "space" else "",
                start=f"2027-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T{start}:00+08:00"
                if kind == "event"
                else None,
            )
        )
    return items


def sample_city_items() -> list[CatalogItem]:
    """The bundled sample city as the importers read it."""
    from knowledge.importers import read_catalog

    return [item for parsed in read_catalog(SAMPLE_CITY) for item in parsed.items]


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    relevant: tuple[str, ...]
    cross_language: bool

    @property
    def chinese(self) -> bool:
        return any("\u4e00" <= character <= "\u9fff" for character in self.query)


def labelled_queries(path: Path = LABELLED_QUERIES) -> list[LabelledQuery]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = data["base"]
    return [
        LabelledQuery(
            query=entry["query"],
            relevant=tuple(
                item_id if ("@" in item_id or "://" in item_id) else base + item_id
                for item_id in entry["relevant"]
            ),
            cross_language=bool(entry.get("cross", False)),
        )
        for entry in data["queries"]
    ]


def recall_at(found: list[str], relevant: tuple[str, ...], k: int = 5) -> float:
    """Share of the relevant items in the top k (out of at most k: a perfect top-k scores 1)."""
    if not relevant:
        return 1.0
    hits = len(set(found[:k]) & set(relevant))
    return hits / min(len(relevant), k)
