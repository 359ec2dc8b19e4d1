"""Writes the bundled sample city (Hailin / 海林) catalog files; the tables below are its source.

Run `.venv/bin/python knowledge/sample_city/_build.py` after editing, and commit the files it
writes (courses.jsonld, spaces.jsonld, events.ics). Importers skip files starting with "_".
"""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.city import load_city

HERE = Path(__file__).resolve().parent
BASE = "https://learn.hailin.example/"
# "南湖区": each district's Chinese name from city.yml, as addresses write it.
DISTRICT_ZH = {d.key: d.names["zh"] + "区" for d in load_city(HERE / "city.yml").districts}
ACCESS = {
    "w": "wheelchair accessible",
    "h": "hearing loop",
    "t": "accessible toilet",
    "e": "elevator",
}
AMENITY = {"wifi": "Wi-Fi", "pc": "public computers", "study": "quiet study room",
           "kids": "children's reading room", "kitchen": "teaching kitchen", "maker": "3D printers and tools",
           "cafe": "café", "meet": "bookable meeting rooms", "desk": "newcomer help desk",
           "print": "printing and scanning", "garden": "community garden", "stage": "performance hall"}  # fmt: skip

# id, zh name, en name, district, @type, lat, lon, street zh, street en, hours, amenities, access, lang
SPACES = [
    ("library-central", "海林市图书馆", "Hailin Central Library", "Jiangbin", "Library", 31.2321, 121.4803, "滨江大道88号", "88 Binjiang Avenue", "Tu-Su 09:00-21:00", "wifi pc study kids print", "whte", "both"),
    ("dongcheng-centre", "东城社区学习中心", "Dongcheng Community Learning Centre", "Dongcheng", "CivicStructure", 31.2405, 121.5236, "朝阳路215号", "215 Chaoyang Road", "Mo-Sa 08:30-21:00", "wifi meet kitchen", "wt", "both"),
    ("dongcheng-digital-hub", "东城数字技能驿站", "Dongcheng Digital Skills Hub", "Dongcheng", "CivicStructure", 31.2287, 121.5311, "春晖街12号", "12 Chunhui Street", "Mo-Fr 09:00-20:00", "wifi pc print", "we", "both"),
    ("xicheng-library", "西城区图书馆", "Xicheng District Library", "Xicheng", "Library", 31.2268, 121.4172, "文华路3号", "3 Wenhua Road", "Tu-Su 09:00-20:30", "wifi pc study kids", "whte", "both"),
    ("xicheng-senior-university", "西城老年大学", "", "Xicheng", "EducationalOrganization", 31.2352, 121.4089, "松鹤路66号", "", "Mo-Fr 08:00-17:00", "meet stage", "wte", "zh"),
    ("nanhu-community-centre", "南湖社区中心", "Nanhu Community Centre", "Nanhu", "CivicStructure", 31.1712, 121.4768, "湖心路100号", "100 Huxin Road", "Mo-Su 08:00-21:00", "wifi meet desk kitchen garden", "wht", "both"),
    ("nanhu-makerspace", "南湖创客空间", "Nanhu Makerspace", "Nanhu", "Place", 31.1644, 121.4851, "科创街9号", "9 Kechuang Street", "We-Su 10:00-22:00", "wifi maker pc cafe", "w", "both"),
    ("beishan-reading-room", "北山街道图书室", "", "Beishan", "Library", 31.2918, 121.4612, "北山路41号", "", "Mo-Sa 09:00-18:00", "study kids", "", "zh"),
    ("beishan-cultural-centre", "北山文化活动中心", "Beishan Cultural Centre", "Beishan", "CivicStructure", 31.2983, 121.4705, "青松路200号", "200 Qingsong Road", "Tu-Su 09:00-21:00", "stage meet wifi", "wte", "both"),
    ("jiangbin-adult-school", "江滨成人学校", "Jiangbin Adult Education School", "Jiangbin", "EducationalOrganization", 31.2479, 121.4938, "望江路18号", "18 Wangjiang Road", "Mo-Fr 08:00-21:30; Sa 08:30-17:00", "wifi pc meet", "wte", "both"),
    ("international-hub", "", "Hailin International Community Hub", "Jiangbin", "Place", 31.2402, 121.4865, "", "5 Harbour View Lane", "Mo-Sa 10:00-19:00", "wifi desk cafe meet", "wt", "en"),
    ("xingang-newcomer-centre", "新港新市民服务中心", "Xingang Newcomers' Service Centre", "Xingang", "CivicStructure", 31.2011, 121.5524, "港城大道501号", "501 Gangcheng Avenue", "Mo-Fr 09:00-18:00; Sa 09:00-12:00", "desk wifi print meet", "wht", "both"),
    ("xingang-library", "新港图书馆", "Xingang Library", "Xingang", "Library", 31.1938, 121.5610, "海燕路27号", "27 Haiyan Road", "Tu-Su 09:30-20:00", "wifi pc kids study", "wte", "both"),
]  # fmt: skip

# id, zh name, en name, zh description, en description, topics, languages, audiences,
# price (CNY, 0 = free), schedule "days HH:MM-HH:MM", space id, term (a = autumn, s = spring, w = workshop)
COURSES = [
    ("pottery-beginners", "陶艺入门", "Pottery for Beginners", "从揉泥、拉坯到上釉，十次课完成你的第一只杯子。", "Wedging, throwing and glazing: make your first cup in ten sessions.", "pottery,ceramics,陶艺,手工", "zh,en", "adults", 380, "sat 09:30-12:00", "nanhu-makerspace", "a"),
    ("pottery-weekday-evening", "陶艺晚班", "", "工作日晚上的陶艺课，适合上班族。", "", "pottery,陶艺,手工", "zh", "adults", 420, "wed 19:00-21:00", "dongcheng-centre", "s"),
    ("python-beginners", "Python 编程入门", "Python for Beginners", "零基础学习 Python：变量、循环、函数和小项目。", "Learn Python from zero: variables, loops, functions and a small project.", "python,programming,coding,编程", "zh,en", "adults,youth", 0, "tue,thu 19:00-21:00", "dongcheng-digital-hub", "a"),
    ("python-data-analysis", "", "Python for Data Analysis", "", "Spreadsheets to pandas: clean, explore and chart real open data from the city.", "python,data analysis,programming", "en", "adults", 600, "sat 14:00-17:00", "jiangbin-adult-school", "s"),
    ("senior-smartphone", "老年智能手机课", "Smartphone Basics for Seniors", "手把手教老年朋友使用微信、扫码、挂号和视频通话。", "Hands-on help with WeChat, QR codes, booking a doctor and video calls.", "smartphone,digital skills,微信,智能手机", "zh", "seniors", 0, "mon,wed 09:30-11:00", "xicheng-senior-university", "a"),
    ("senior-smartphone-nanhu", "长者智能手机小课堂", "", "社区志愿者一对一辅导，学会用手机买菜、打车、防诈骗。", "", "smartphone,digital skills,防诈骗,智能手机", "zh", "seniors", 0, "fri 14:00-15:30", "nanhu-community-centre", "a"),
    ("english-conversation", "英语口语角", "English Conversation Club", "在轻松的氛围里练习日常英语口语。", "Practise everyday spoken English in a relaxed group.", "english,conversation,英语,口语", "en", "adults", 0, "thu 19:00-20:30", "library-central", "a"),
    ("english-conversation-weekend", "", "Weekend English Conversation", "", "Small-group conversation practice with volunteer native speakers.", "english,conversation,speaking", "en", "adults,youth", 0, "sun 10:00-11:30", "international-hub", "a"),
    ("english-for-work", "职场英语", "English for Work", "邮件、会议和面试中的实用英语。", "Practical English for emails, meetings and interviews.", "english,business english,职场", "en,zh", "adults,unemployed", 300, "tue 19:00-21:00", "jiangbin-adult-school", "a"),
    ("kids-english-stories", "少儿英语绘本", "", "用绘本和游戏带孩子开口说英语，家长可陪同。", "", "english,children,绘本,英语", "zh,en", "children,parents", 0, "sat 10:00-11:00", "xicheng-library", "a"),
    ("mandarin-newcomers", "新市民汉语课", "Mandarin for Newcomers", "为新来海林的外国朋友开设的汉语入门课。", "Beginner Mandarin (汉语) for people new to Hailin: greetings, shopping, transport, the doctor.", "mandarin,chinese,汉语,中文,language", "zh,en", "migrants", 0, "mon,wed 18:30-20:00", "xingang-newcomer-centre", "a"),
    ("mandarin-newcomers-weekend", "", "Mandarin Survival Course (weekends)", "", "Chinese for daily life in eight Saturday mornings; taught in Mandarin with English support.", "mandarin,chinese,汉语,language", "zh,en", "migrants", 0, "sat 09:00-11:30", "international-hub", "a"),
    ("chinese-characters-foreigners", "汉字书写入门（外国人）", "Chinese Characters for Foreign Residents", "从笔画开始认识汉字。", "Start reading and writing Chinese characters, stroke by stroke.", "chinese,汉字,mandarin,writing", "zh,en", "migrants", 150, "thu 18:30-20:00", "jiangbin-adult-school", "s"),
    ("hsk-preparation", "", "HSK 3 Exam Preparation", "", "Prepare for the HSK level 3 Chinese proficiency test with mock exams.", "mandarin,chinese,HSK,exam", "zh,en", "migrants,adults", 480, "sun 14:00-16:30", "library-central", "s"),
    ("sign-language-basics", "手语基础", "Sign Language Basics", "学习中国手语的常用词汇与日常会话，由听障老师授课。", "Everyday Chinese Sign Language taught by a Deaf teacher.", "sign language,手语,communication", "zh", "adults,disabled", 0, "sat 14:00-16:00", "nanhu-community-centre", "a"),
    ("sign-language-family", "家庭手语课", "", "为有听障成员的家庭开设的手语课，孩子和家长一起学。", "", "sign language,手语,家庭", "zh", "parents,children,disabled", 0, "sun 10:00-11:30", "beishan-cultural-centre", "s"),
    ("home-cooking", "家常菜烹饪", "Home Cooking Basics", "学做十道海林家常菜。", "Cook ten classic Hailin home dishes.", "cooking,烹饪,food", "zh", "adults", 260, "sat 15:00-17:30", "dongcheng-centre", "a"),
    ("healthy-cooking-seniors", "老年营养膳食", "", "少盐少油的健康烹饪，适合老年人和慢病人群。", "", "cooking,nutrition,健康,烹饪", "zh", "seniors", 0, "tue 09:30-11:30", "nanhu-community-centre", "a"),
    ("world-cooking", "", "World Kitchen: Cooking Together", "", "Newcomers and locals teach each other a dish from home, then eat together.", "cooking,culture,food,community", "en,zh", "migrants,adults", 30, "sun 16:00-19:00", "nanhu-community-centre", "a"),
    ("first-aid", "急救技能培训", "First Aid Training", "心肺复苏、AED 使用和常见意外处理，结业可获证书。", "CPR, using an AED and common emergencies; certificate on completion.", "first aid,急救,CPR,health", "zh,en", "adults,youth", 0, "sat 09:00-12:00", "beishan-cultural-centre", "w"),
    ("first-aid-parents", "婴幼儿急救", "", "为新手爸妈准备：异物卡喉、发热、烫伤的处理。", "", "first aid,急救,育儿", "zh", "parents", 0, "sun 09:30-11:30", "xingang-library", "w"),
    ("parenting-toddlers", "科学育儿课堂", "Positive Parenting for Toddlers", "0-3岁宝宝的睡眠、饮食与情绪引导。", "Sleep, food and feelings for children from 0 to 3.", "parenting,育儿,家庭教育", "zh", "parents", 0, "sat 10:00-11:30", "library-central", "a"),
    ("parenting-teenagers", "青春期亲子沟通", "", "如何与青春期孩子沟通：倾听、规则与信任。", "", "parenting,育儿,沟通", "zh", "parents", 0, "wed 19:00-20:30", "beishan-reading-room", "s"),
    ("digital-skills-unemployed", "求职数字技能", "Digital Skills for Job Seekers", "办公软件、线上求职平台和视频面试，为失业人员免费开设。", "Office software, online job portals and video interviews; free for unemployed residents.", "digital skills,office,computer,电脑,求职", "zh,en", "unemployed", 0, "mon,wed,fri 09:00-12:00", "dongcheng-digital-hub", "a"),
    ("computer-basics", "电脑基础", "", "开机、打字、上网、收发邮件。", "", "computer,digital skills,电脑", "zh", "seniors,adults", 0, "tue,thu 14:00-16:00", "beishan-reading-room", "a"),
    ("job-seeking-workshop", "求职技巧工作坊", "Job-Seeking Workshop", "简历、求职信与面试模拟，一次学会。", "CVs, cover letters and a mock interview in one afternoon.", "job seeking,career,CV,求职,就业", "zh,en", "unemployed,youth,migrants", 0, "thu 14:00-17:00", "jiangbin-adult-school", "w"),
    ("cv-clinic", "", "CV Clinic for International Residents", "", "Bring your CV: volunteers help adapt it to Chinese employers' expectations.", "job seeking,CV,career", "en", "migrants,unemployed", 0, "tue 18:00-20:00", "international-hub", "a"),
    ("calligraphy", "书法入门", "Chinese Calligraphy for Beginners", "毛笔楷书入门，从永字八法开始。", "Brush calligraphy in regular script, starting from the eight strokes of 永.", "calligraphy,书法,art,culture", "zh", "adults,seniors", 200, "sun 09:30-11:30", "xicheng-library", "a"),
    ("calligraphy-seniors", "老年书法班", "", "硬笔与毛笔书法，适合退休人员。", "", "calligraphy,书法", "zh", "seniors", 0, "tue,thu 09:00-11:00", "xicheng-senior-university", "a"),
    ("calligraphy-kids", "少儿书法", "", "培养坐姿、握笔和专注力的少儿硬笔书法。", "", "calligraphy,书法,children", "zh", "children", 160, "sat 14:00-15:00", "beishan-cultural-centre", "a"),
    ("tai-chi-morning", "太极拳晨练", "Morning Tai Chi", "二十四式太极拳，每天清晨公园集合。", "Yang-style 24-form tai chi in the park every morning.", "tai chi,太极,exercise,health", "zh", "seniors,adults", 0, "mon-fri 07:00-08:00", "nanhu-community-centre", "a"),
    ("tai-chi-weekend", "", "Tai Chi for Everyone (weekends)", "", "Gentle tai chi for beginners of every age, taught in English and Chinese.", "tai chi,exercise,health", "en,zh", "adults", 50, "sun 08:30-10:00", "international-hub", "s"),
    ("coding-kids-scratch", "少儿编程 Scratch", "Coding for Kids with Scratch", "8-12岁孩子用 Scratch 做游戏和动画。", "Children aged 8 to 12 make games and animations in Scratch.", "coding,programming,scratch,编程,children", "zh,en", "children", 0, "sat 10:00-11:30", "nanhu-makerspace", "a"),
    ("coding-kids-robotics", "青少年机器人编程", "Robotics for Teens", "用 micro:bit 和传感器做小机器人。", "Build small robots with micro:bit and sensors.", "robotics,coding,编程,STEM", "zh", "youth,children", 300, "sun 14:00-16:00", "nanhu-makerspace", "s"),
    ("photography-smartphone", "手机摄影", "Smartphone Photography", "构图、光线和后期，用手机拍出好照片。", "Composition, light and editing for better phone photos.", "photography,摄影,smartphone", "zh", "adults,seniors", 0, "wed 14:00-16:00", "beishan-cultural-centre", "a"),
    ("photography-dslr", "", "Digital Photography Course", "", "Exposure, lenses and night shots along the Hailin riverside.", "photography,camera,art", "en", "adults", 520, "sat 15:00-17:30", "library-central", "s"),
    ("accounting-basics", "会计基础", "Bookkeeping Basics", "小微企业和个体户的记账与报税入门。", "Bookkeeping and tax filing for small businesses and the self-employed.", "accounting,会计,finance,bookkeeping", "zh", "adults,unemployed", 360, "tue,thu 19:00-21:00", "jiangbin-adult-school", "a"),
    ("household-finance", "家庭理财与防诈骗", "", "家庭预算、储蓄与识别金融诈骗。", "", "finance,理财,防诈骗", "zh", "adults,seniors", 0, "fri 19:00-20:30", "xingang-library", "a"),
    ("law-advice-clinic", "社区法律咨询", "Free Legal Advice Clinic", "律师志愿者解答劳动合同、租房和婚姻家庭问题。", "Volunteer lawyers answer questions on work contracts, renting and family law.", "law,legal advice,法律,咨询", "zh,en", "adults,migrants", 0, "sat 09:00-12:00", "dongcheng-centre", "a"),
    ("labour-rights", "劳动者权益讲座", "", "工资、社保、工伤：新市民必知的劳动法。", "", "law,劳动法,社保,权益", "zh", "migrants,unemployed", 0, "sun 15:00-16:30", "xingang-newcomer-centre", "w"),
    ("foreign-qualifications", "境外学历学位认证说明会", "Recognition of Foreign Qualifications: Info Session", "介绍境外学历、职业资格在海林的认证流程和所需材料。", "How to get your foreign degree and professional qualifications recognised in Hailin, and what documents to bring.", "qualifications,recognition,学历认证,career", "zh,en", "migrants", 0, "wed 18:30-20:00", "xingang-newcomer-centre", "w"),
    ("qualifications-advice", "", "One-to-one Advice: Foreign Diplomas", "", "Book a 30-minute slot with an adviser about recognition of your diploma.", "qualifications,recognition,career", "en", "migrants", 0, "fri 14:00-17:00", "international-hub", "a"),
    ("school-enrolment-help", "随迁子女入学指导", "School Enrolment Help for Migrant Families", "讲解随迁子女入学政策、积分和材料准备，可一对一咨询。", "Explains how children of families new to Hailin enrol in school, the points system and documents; one-to-one help available.", "school enrolment,schooling,入学,教育", "zh,en", "migrants,parents", 0, "sat 09:30-11:30", "xingang-newcomer-centre", "a"),
    ("school-enrolment-english", "", "Schooling in Hailin: a Guide for International Parents", "", "Kindergarten to high school: how the system works, international and local options, enrolment deadlines.", "school enrolment,schooling,education", "en", "migrants,parents", 0, "wed 19:00-20:30", "international-hub", "w"),
    ("newcomer-help-desk", "新市民服务台", "Newcomer Help Desk", "居住登记、社保、办卡、看病：新来海林的朋友有问题都可以来问。", "Residence registration, social insurance, bank cards, seeing a doctor: drop in with any question about settling in.", "newcomers,settling in,居住证,help desk", "zh,en", "migrants", 0, "mon-fri 09:00-17:00", "nanhu-community-centre", "a"),
    ("newcomer-orientation", "", "Welcome to Hailin: Newcomer Orientation", "", "A two-hour introduction to life in Hailin: transport, healthcare, housing and where to learn.", "newcomers,orientation,settling in", "en", "migrants", 0, "sat 14:00-16:00", "xingang-newcomer-centre", "w"),
    ("guitar-beginners", "吉他入门", "Guitar for Beginners", "三个月学会弹唱十首歌。", "Play and sing ten songs in three months.", "music,guitar,吉他", "zh", "youth,adults", 450, "fri 19:00-20:30", "beishan-cultural-centre", "a"),
    ("choir", "社区合唱团", "", "每周排练，欢迎各年龄段喜欢唱歌的居民。", "", "music,choir,合唱,singing", "zh", "adults,seniors", 0, "thu 14:00-16:00", "xicheng-senior-university", "a"),
    ("erhu", "二胡基础", "", "民族乐器二胡入门。", "", "music,erhu,二胡,民乐", "zh", "seniors,adults", 180, "mon 14:00-16:00", "xicheng-senior-university", "s"),
    ("painting-watercolour", "水彩画", "Watercolour Painting", "从静物到风景的水彩技法。", "Watercolour technique from still life to landscape.", "painting,art,水彩,绘画", "zh", "adults", 280, "sun 14:00-16:30", "library-central", "a"),
    ("chinese-painting", "国画花鸟", "", "写意花鸟画入门。", "", "painting,国画,art,culture", "zh", "seniors", 0, "wed 09:00-11:00", "xicheng-senior-university", "a"),
    ("knitting-circle", "", "Knitting & Crochet Circle", "", "Bring yarn or borrow ours; beginners welcome.", "knitting,crafts,handicraft", "en", "adults,women", 0, "wed 18:30-20:30", "international-hub", "a"),
    ("women-entrepreneurs", "女性创业课堂", "Women Entrepreneurs Programme", "从想法到营业执照：女性创业者的商业计划与融资。", "From idea to business licence: business plans and funding for women founders.", "entrepreneurship,business,创业", "zh,en", "women,unemployed", 0, "sat 14:00-17:00", "dongcheng-centre", "s"),
    ("ecommerce-livestream", "电商直播技能", "", "开网店、拍短视频、直播带货，面向求职和转岗人员。", "", "e-commerce,live streaming,电商,直播,digital skills", "zh", "unemployed,youth", 0, "mon,wed 14:00-17:00", "dongcheng-digital-hub", "a"),
    ("excel-office", "办公软件 Excel 进阶", "Excel for the Office", "函数、数据透视表和图表。", "Formulas, pivot tables and charts.", "excel,office,computer,digital skills", "zh", "adults,unemployed", 240, "tue 19:00-21:00", "dongcheng-digital-hub", "s"),
    ("online-safety", "网络安全与防诈骗", "Staying Safe Online", "识别电信诈骗、保护个人信息。", "Spot phone and online scams and protect your personal data.", "online safety,防诈骗,digital skills,security", "zh,en", "seniors,adults", 0, "thu 09:30-11:00", "xingang-library", "a"),
    ("gardening-balcony", "阳台种菜", "Balcony Vegetable Gardening", "在阳台种出四季蔬菜。", "Grow vegetables on your balcony all year round.", "gardening,种植,environment", "zh", "adults,seniors", 0, "sun 09:00-10:30", "nanhu-community-centre", "s"),
    ("recycling-workshop", "", "Zero-Waste Living Workshop", "", "Sorting rules in Hailin, composting and repairing instead of throwing away.", "environment,recycling,sustainability", "en,zh", "adults,parents", 0, "sat 10:00-12:00", "xingang-library", "w"),
    ("repair-cafe", "修理咖啡馆", "Repair Café", "带上坏掉的小家电和衣物，志愿者教你一起修。", "Bring broken appliances and clothes; volunteers show you how to repair them.", "repair,electronics,sewing,sustainability", "zh,en", "adults", 0, "sun 14:00-17:00", "nanhu-makerspace", "a"),
    ("3d-printing", "3D 打印入门", "Intro to 3D Printing", "建模并打印你的第一个作品。", "Model and print your first object.", "3D printing,maker,design,STEM", "zh,en", "youth,adults", 100, "thu 19:00-21:00", "nanhu-makerspace", "s"),
    ("reading-club", "读书会", "", "每月共读一本书，欢迎新朋友。", "", "reading,books,读书,literature", "zh", "adults", 0, "sun 15:00-17:00", "beishan-reading-room", "a"),
    ("english-book-club", "", "English Book Club", "", "One novel a month, discussed in English over tea.", "reading,books,english,literature", "en", "adults", 0, "fri 19:00-20:30", "library-central", "a"),
    ("homework-club", "课后作业辅导", "After-school Homework Club", "大学生志愿者辅导小学生作业，免费。", "University volunteers help primary pupils with homework; free.", "homework,tutoring,education,children", "zh", "children,migrants", 0, "mon-thu 16:30-18:00", "xingang-library", "a"),
    ("mental-health", "心理健康与减压", "Stress and Wellbeing", "认识压力，学习正念与放松方法。", "Understanding stress; mindfulness and relaxation you can use every day.", "mental health,wellbeing,心理健康,mindfulness", "zh,en", "adults,unemployed", 0, "tue 19:00-20:30", "jiangbin-adult-school", "s"),
    ("yoga-chair", "椅子瑜伽", "Chair Yoga", "坐着也能练的瑜伽，适合行动不便人士和老年人。", "Yoga you can do seated, for people with limited mobility and seniors.", "yoga,exercise,health", "zh", "seniors,disabled", 0, "fri 10:00-11:00", "dongcheng-centre", "a"),
    ("braille-reading", "盲文阅读", "", "面向视障人士及家属的盲文读写课程。", "", "braille,盲文,reading,accessibility", "zh", "disabled", 0, "sat 09:30-11:00", "library-central", "a"),
    ("driving-theory", "", "Driving Theory in English", "", "Prepare for the Chinese driving licence theory test in English.", "driving,licence,exam", "en", "migrants,adults", 200, "sun 10:00-12:00", "jiangbin-adult-school", "s"),
    ("spanish-beginners", "西班牙语入门", "Spanish for Beginners", "零基础学习西班牙语发音与日常会话。", "Pronunciation and everyday conversation in Spanish from zero.", "spanish,language,西班牙语", "es,zh", "adults", 320, "mon 19:00-20:30", "library-central", "a"),
    ("russian-speaking-parents", "", "Help Desk for Russian and Ukrainian Speaking Families", "", "Advice on school, healthcare and paperwork in Russian and Ukrainian.", "newcomers,school enrolment,help desk", "ru,uk,en", "migrants,parents", 0, "sat 11:00-13:00", "international-hub", "a"),
]  # fmt: skip

TERMS = {
    "a": ("2026-09-07", "2027-01-22"),
    "s": ("2027-03-01", "2027-06-25"),
    "w": ("2026-12-05", "2027-03-27"),
}
DAY = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
       "sat": "Saturday", "sun": "Sunday"}  # fmt: skip
ORDER = list(DAY)
ACCESSIBILITY_EXTRA = {"sign-language-basics": ["sign language"], "sign-language-family": ["sign language"],
                       "braille-reading": ["braille", "large print"], "yoga-chair": ["wheelchair accessible"]}  # fmt: skip

# uid, zh summary, en summary, description, start, end, space id, categories, audiences, languages, price
EVENTS = [
    ("festival-2027-opening@learn.hailin.example", "2027海林学习节开幕式", "Hailin Learning Festival 2027: Opening", "海林学习节开幕：全市学习成果展、免费体验课和表演。 Opening of the city's learning festival: showcases, free taster classes and performances.", "20270424T093000", "20270424T170000", "library-central", "festival,learning festival,学习节", "adults,children,seniors", "zh,en", "0"),
    ("festival-2027-taster-day@learn.hailin.example", "学习节社区体验日", "Community Taster Day", "各社区学习中心同时开放：陶艺、书法、编程、手语体验，不需报名。", "20270425T090000", "20270425T160000", "nanhu-community-centre", "festival,taster,pottery,calligraphy,coding", "adults,children,parents", "zh", "0"),
    ("newcomers-fair-2026@learn.hailin.example", "", "Newcomers' Welcome Fair", "Meet Hailin's services for new residents: language classes, qualification recognition, school enrolment and job centres under one roof.", "20261212T100000", "20261212T160000", "xingang-newcomer-centre", "newcomers,fair,settling in", "migrants,parents", "en,zh", "0"),
    ("winter-reading-night@learn.hailin.example", "冬夜读书会", "", "图书馆通宵开放夜：作家分享、亲子阅读和书籍交换。", "20261219T180000", "20261219T235000", "xicheng-library", "reading,books,读书", "adults,parents,children", "zh", "0"),
    ("digital-inclusion-week@learn.hailin.example", "数字融合周", "Digital Inclusion Week", "一周的免费数字技能辅导：老人学手机，求职者学办公软件。 A week of free digital help for seniors and job seekers.", "20270111T090000", "20270115T170000", "dongcheng-digital-hub", "digital skills,smartphone,computer", "seniors,unemployed", "zh,en", "0"),
    ("maker-saturday@learn.hailin.example", "", "Maker Saturday (monthly)", "Open workshop on the first Saturday of the month: 3D printers, soldering and repair help.", "20261205T140000", "20261205T180000", "nanhu-makerspace", "maker,repair,3D printing", "youth,adults", "en", "20 CNY"),
]  # fmt: skip


def _space_node(space: tuple) -> dict:
    sid, zh, en, district, kind, lat, lon, street_zh, street_en, hours, amenities, access, lang = (
        space
    )
    node = {"@type": kind, "@id": f"{BASE}spaces/{sid}", "name": _names(zh, en)}
    address = {"@type": "PostalAddress", "addressCountry": "CN"}
    if street_zh:
        address |= {
            "streetAddress": street_zh,
            "addressLocality": DISTRICT_ZH[district],
            "addressRegion": "海林市",
        }
    else:
        address |= {
            "streetAddress": street_en,
            "addressLocality": f"{district} District",
            "addressRegion": "Hailin",
        }
    node |= {
        "address": address,
        "geo": {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon},
    }
    features = [AMENITY[key] for key in amenities.split()] + [ACCESS[key] for key in access]
    node["amenityFeature"] = [
        {"@type": "LocationFeatureSpecification", "name": name, "value": True} for name in features
    ]
    return node


def _names(zh: str, en: str) -> object:
    if zh and en:
        return [{"@value": zh, "@language": "zh"}, {"@value": en, "@language": "en"}]
    return zh or en


def _spaces_document() -> dict:
    graph = []
    for space in SPACES:
        node = _space_node(space)
        node["openingHours"] = space[9].split("; ")
        node["isAccessibleForFree"] = True
        node["inLanguage"] = ["zh", "en"] if space[12] == "both" else [space[12]]
        graph.append(node)
    return {"@context": "https://schema.org", "@graph": graph}


def _courses_document() -> dict:
    spaces = {space[0]: space for space in SPACES}
    graph = []
    for cid, zh, en, dzh, den, topics, langs, audiences, price, schedule, space, term in COURSES:
        days_text, times = schedule.split()
        if "-" in days_text:
            first, last = days_text.split("-")
            days = ORDER[ORDER.index(first) : ORDER.index(last) + 1]
        else:
            days = days_text.split(",")
        start, end = times.split("-")
        start_date, end_date = TERMS[term]
        place = _space_node(spaces[space])
        graph.append(
            {
                "@type": "Course",
                "@id": f"{BASE}courses/{cid}",
                "name": _names(zh, en),
                "description": _names(dzh, den),
                "keywords": topics,
                "inLanguage": langs.split(","),
                "audience": [
                    {"@type": "Audience", "audienceType": a} for a in audiences.split(",")
                ],
                "educationalLevel": "beginner" if term != "s" else "all levels",
                "provider": {
                    "@type": "Organization",
                    "name": _names(spaces[space][1], spaces[space][2]),
                },
                "offers": {
                    "@type": "Offer",
                    "price": price,
                    "priceCurrency": "CNY",
                    "category": "Free" if price == 0 else "Paid",
                },
                "isAccessibleForFree": price == 0,
                "accessibilityFeature": ACCESSIBILITY_EXTRA.get(cid, []),
                "url": f"{BASE}courses/{cid}",
                "hasCourseInstance": [
                    {
                        "@type": "CourseInstance",
                        "courseMode": "onsite",
                        "startDate": start_date,
                        "endDate": end_date,
                        "location": place,
                        "courseSchedule": {
                            "@type": "Schedule",
                            "byDay": [f"https://schema.org/{DAY[d]}" for d in days],
                            "startTime": start,
                            "endTime": end,
                            "repeatFrequency": "P1W",
                        },
                    }
                ],
            }
        )
    return {"@context": "https://schema.org", "@graph": graph}


def _ics() -> str:
    spaces = {space[0]: space for space in SPACES}
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Hailin Learning City//learncity sample//EN",
             "CALSCALE:GREGORIAN", "X-WR-CALNAME:海林学习节 Hailin learning events", "X-WR-TIMEZONE:Asia/Shanghai"]  # fmt: skip
    for uid, zh, en, description, start, end, space, categories, audiences, langs, price in EVENTS:
        _sid, szh, sen, district, *_rest = spaces[space]
        lat, lon = spaces[space][5], spaces[space][6]
        summary = f"{zh} {en}".strip()
        language = "zh" if zh else "en"
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261120T000000Z",
                  f"SUMMARY;LANGUAGE={language}:{_escape(summary)}", f"DESCRIPTION:{_escape(description)}",
                  f"DTSTART;TZID=Asia/Shanghai:{start}", f"DTEND;TZID=Asia/Shanghai:{end}",
                  f"LOCATION:{szh or sen}\\, {spaces[space][7] or spaces[space][8]}\\, {DISTRICT_ZH[district]}",
                  f"GEO:{lat};{lon}", f"CATEGORIES:{categories}", f"URL:{BASE}events/{uid.split('@')[0]}",
                  f"ORGANIZER;CN={szh or sen}:mailto:learn@hailin.example",
                  f"X-LEARNCITY-AUDIENCES:{audiences}", f"X-LEARNCITY-LANGUAGES:{langs}",
                  f"X-LEARNCITY-PRICE:{price}", f"X-LEARNCITY-DISTRICT:{district}"]  # fmt: skip
        if uid.startswith("maker-saturday"):
            lines.append("RRULE:FREQ=MONTHLY;BYDAY=1SA;UNTIL=20270605T235959Z")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _escape(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _fold(line: str) -> str:
    """RFC 5545 folding: lines at most 75 octets, continued with a leading space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def main() -> None:
    for name, document in (
        ("courses.jsonld", _courses_document()),
        ("spaces.jsonld", _spaces_document()),
    ):
        (HERE / name).write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    (HERE / "events.ics").write_text(_ics(), encoding="utf-8", newline="")
    print(f"{len(COURSES)} courses, {len(SPACES)} spaces, {len(EVENTS)} events written to {HERE}")


if __name__ == "__main__":
    main()
