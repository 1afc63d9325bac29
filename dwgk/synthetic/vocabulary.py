"""The words synthetic titles, bodies and names are made of.

The party-affairs terms are taken from the source rules in the shared seeds (BJ, CMU, NM,
SX, QJ: 党费收缴, 换届选举, 发展党员, 三会一课, 主题党日 …), so that searching for the words
people really search for finds realistic numbers of items. Place names, people's names and
unit names are made of common characters; none of them is meant to be real.
"""

from __future__ import annotations

# --- party-affairs terms, grouped by topic --------------------------------------------------
# Each topic's terms occur in the seed texts; titles and bodies pick from one topic.
TOPICS: dict[str, tuple[str, ...]] = {
    "dues": ("党费收缴使用情况", "党费收缴、使用和管理情况", "党费收缴", "党费使用管理"),
    "recruit": ("发展党员", "党员发展情况", "发展党员工作", "民主评议党员"),
    "election": ("换届选举", "党组织设立", "隶属关系调整", "机构调整"),
    "meetings": ("“三会一课”制度执行情况", "主题党日活动", "组织生活会", "民主生活会"),
    "study": ("理论学习中心组学习", "党内学习教育", "党员教育培训", "思想政治工作", "理论学习计划"),
    "integrity": (
        "党风廉政建设",
        "防止和纠正“四风”现象",
        "中央八项规定精神落实",
        "党员组织处理和纪律处分",
        "党风廉政建设责任制",
    ),
    "service": (
        "联系服务党员和群众",
        "党员和群众意见建议办理",
        "来信来访办理",
        "困难党员和群众帮扶",
        "为民办实事",
        "矛盾纠纷排查化解",
    ),
    "plans": ("任期工作目标", "阶段性工作部署", "重点工作任务落实", "年度工作要点", "决策部署落实"),
    "leadership": (
        "领导班子职责分工",
        "议事规则和决策程序",
        "民主集中制执行",
        "领导班子建设",
        "年度考核评价",
    ),
    "cadres": ("干部考察预告", "干部任前公示", "重要人事任免", "干部轮岗交流", "考核奖惩"),
    "honours": ("优秀共产党员", "优秀党务工作者", "先进基层党组织", "创先争优", "党内表彰"),
    "inspection": ("巡视整改", "巡察反馈意见整改", "整改落实"),
    "decisions": ("重大决策", "重大改革事项", "重要民生措施", "经济社会发展部署安排"),
    "governance": ("基层社会治理", "党务公开目录", "党务公开工作", "党建活动经费使用"),
}

# A catalog entry's category (the rule-sets' words) → the topic its items talk about.
CATEGORY_TOPIC: dict[str, str] = {
    "党费管理": "dues",
    "党员队伍建设": "recruit",
    "组织建设": "election",
    "组织管理": "election",
    "组织机构": "election",
    "组织生活": "meetings",
    "思想建设": "study",
    "师德师风": "study",
    "党风廉政建设": "integrity",
    "作风建设": "integrity",
    "纪律建设": "integrity",
    "纪检监察": "integrity",
    "监督执纪": "integrity",
    "审查调查": "integrity",
    "问责": "integrity",
    "服务群众": "service",
    "群团工作": "service",
    "工作部署": "plans",
    "工作落实": "plans",
    "中心工作": "plans",
    "决议决定": "plans",
    "党组织决议决定": "plans",
    "领导班子建设": "leadership",
    "自身建设": "leadership",
    "全面从严治党": "leadership",
    "党的建设": "leadership",
    "干部工作": "cadres",
    "创先争优": "honours",
    "党内表彰": "honours",
    "巡视巡察": "inspection",
    "重大决策": "decisions",
    "经济社会发展": "decisions",
    "党的领导": "decisions",
    "重要会议": "meetings",
    "重要文件": "decisions",
    "重要活动": "plans",
    "基层治理": "governance",
    "民主管理": "governance",
    "信息发布": "governance",
    "机关职责": "governance",
    "部门职责": "governance",
    "党内法规": "decisions",
}

# Phrases of the rules' own language for the bodies.
PHRASES = (
    "全面从严治党",
    "学习贯彻习近平新时代中国特色社会主义思想",
    "坚决做到“两个维护”",
    "贯彻民主集中制原则",
    "严肃党内政治生活",
    "推进党风廉政建设和反腐败斗争",
    "加强基层党组织建设",
    "落实管党治党政治责任",
    "联系服务党员和群众",
    "保障党员知情权、参与权、选举权、监督权",
    "发展党内民主、强化党内监督",
    "让权力在阳光下运行",
)
ACTIONS = (
    "精心组织、周密部署",
    "压实责任、强化督导",
    "建立台账、逐项落实",
    "广泛听取党员和群众意见",
    "坚持集体研究决定",
    "严格按程序办理",
)
OPENERS = (
    "根据《中国共产党党务公开条例（试行）》和有关规定，现将{term}有关情况公开如下。",
    "为发展党内民主、强化党内监督，使广大党员更好了解和参与党内事务，现将{term}予以公开。",
    "按照上级党组织工作部署和本组织党务公开目录，{org}对{term}进行了认真梳理，现公开如下。",
    "{org}坚持{phrase}，现将{term}情况通报如下。",
)
FACTS = (
    "{period}，{org}共召开支部委员会{n1}次、党员大会{n2}次，开展主题党日活动{n3}次。",
    "{org}{action}，共收集党员和群众意见建议{n1}条，已办结{n2}条，其余正在办理。",
    "{period}，{org}围绕{term}{action}，各项工作按计划推进。",
    "经支部委员会研究、党员大会讨论，{org}按程序完成{term}相关工作，共涉及党员{n1}名。",
    "{org}把{phrase}作为重要政治任务，{action}，取得阶段性成效。",
)
DUES_FACTS = (
    "{period}应收缴党费{money}元，实收{money}元，按规定上缴上级党委{up}元，结存{left}元。",
    "{period}党费使用{n1}笔，主要用于党员教育培训和慰问困难党员，共计{up}元。",
)
CLOSERS = (
    "欢迎广大党员和群众监督，如有意见建议，可通过意见箱、公开电话或党务公开平台反映。",
    "以上情况已在党务公开栏同步公开，接受党员和群众监督。",
    "特此公开。",
)
NOTICE_CLOSER = (
    "公示期为{days}个工作日。公示期间，党员和群众如有意见，可通过意见箱、公开电话或"
    "党务公开平台向{org}反映。"
)
TITLE_IMMEDIATE = ("关于{term}的公示", "关于{term}情况的通报", "{short}关于{term}结果的公告")
NOTICE_SUFFIXES = ("的公示",)
STAGES = ("第一阶段：动员部署", "第二阶段：组织实施", "第三阶段：总结验收")
BACKGROUND = "为{phrase}，{org}结合实际研究制定了本事项的工作安排。"
SIGNIFICANCE = "做好{term}，对于{phrase}具有重要意义。"
KEY_POINTS = "主要内容包括：{term}的工作目标、主要任务和保障措施。"
HOT_SPOTS = "党员和群众可能关注{term}的具体安排和办理进度。"
RESPONSE_PLAN = "由党务公开工作人员及时答复，必要时在公开栏补充说明。"
CORRECTION = "经核查，原公开内容中{term}有关数据有误，现予撤回，更正后将重新公开。"
OUT_OF_CATALOG_REASON = "上级党组织临时部署的专项工作，本组织目录中暂无对应条目。"
DELAY_REASON = "涉及重大复杂事项，须待上级党组织统一部署后公开。"

# --- review, approval, feedback -------------------------------------------------------------
CONFIDENTIALITY = ("不涉及党和国家秘密", "不涉及国家秘密和工作秘密，无个人隐私信息")
NECESSITY = ("属于目录规定应当公开的事项", "属于党员和群众普遍关注的事项，有必要公开")
ACCURACY = ("内容与原始记录核对一致", "数据准确，表述无误")
NORMATIVITY = ("格式规范、表述准确", "符合党务公开有关规定")
PREVENTION = "安排专人关注党员和群众反映，发现问题及时澄清和引导。"
MINUTES = ("会议研究同意公开。", "经集体研究，同意按目录规定公开。")
RETURN_OPINION = "请补充{term}的具体数据后重新提出。"
REJECT_REASON = "涉及个人隐私信息，不宜公开。"
OPINIONS = (
    "建议进一步细化{term}的具体安排，方便党员了解。",
    "请问{term}的结果什么时候公开？",
    "对{term}工作表示支持，希望继续做好公开。",
    "建议公开栏的内容及时更新，并附上政策解读。",
    "希望{term}能同时在公开栏张贴，便于老党员查看。",
)
REPLIES = (
    "感谢您的意见，我们已在后续公开中补充相关内容。",
    "您反映的问题已转相关部门办理，办理结果将及时告知。",
    "经研究，{term}的有关情况将在下月党务公开日公开，欢迎监督。",
)
REJECT_OPINION = "与本事项无关的内容，不予受理。"
TOLD_HOW = {"platform": "平台通知", "offline": "电话告知"}

# --- places, units and people --------------------------------------------------------------
PLACE_FIRST = (
    "东南西北青白金龙凤安平永宁长兴新华和泰嘉瑞德清河山湖海江云石柳桃梅松兰明光春阳临丰富康乐福祥鹤"
)
PLACE_SECOND = "州阳山江河湖城关桥门湾坪口庄塘岭溪林源田坝台集营堡川原浦亭"
INDUSTRIES = ("机械", "电力", "建设", "交通", "水务", "能源", "化工", "纺织", "食品", "医药")
PRIVATE = ("科技", "电子", "物流", "食品", "服装", "建材", "信息技术", "文化传媒")
ASSOCIATIONS = ("个体劳动者", "物流行业", "律师", "会计师", "餐饮行业")
INSTITUTIONS = ("中学", "小学", "卫生院", "人民医院", "职业技术学校", "文化站")
DEPARTMENTS = ("机关", "生产", "销售", "研发", "后勤", "离退休")
CN_DIGITS = "零一二三四五六七八九"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志文斌辉鹏宇浩晨欣怡雪琳婷"
    "海燕波林鑫淑珍春秋云峰亮成东晓凤秀丹颖洁倩佳瑶慧颖翔宁博凯帆"
)


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十: the ordinals of branch names (第一党支部)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_DIGITS[tens]
    return head + "十" + (CN_DIGITS[ones] if ones else "")
