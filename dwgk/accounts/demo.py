"""Demo data that looks like a real deployment: the fictional city of 明州 (Mingzhou).

明州市委 with its discipline commission and work organs, two districts (东湖区, 西山区) each
with a 区纪委 and a 区委办公室, street working committees, community party committees and
branches; a medical university with its school committees and teacher and student branches;
a state-owned enterprise with its branches. About fifty people hold every organization role and,
on three separate accounts, the three platform roles (三员分立); the rest are plain and
probationary members and non-member staff, students and residents.

Everything goes through the real action functions with actor=None (the operator's own
command), so the audit log tells the same story as after a real roll-out. Everything is keyed
by organization code and username: loading twice changes nothing, and whatever an operator
changed since the first load (a renamed organization, a new password) is left alone.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from dwgk.accounts.actions import (
    affiliate,
    current_membership,
    member_join,
    platform_role_grant,
    role_grant,
    user_create,
)
from dwgk.accounts.models import Affiliation, Membership, PlatformRole, Role, RoleGrant, User
from dwgk.orgs.actions import org_create, org_dissolve, org_merge, org_rename
from dwgk.orgs.models import Organization, OrgType

# One password for every demo account; printed by `load_demo`. Never use it in production.
DEMO_PASSWORD = "mingzhou-demo-2025"

# The demo's branch secretary (支部书记): the first login the command prints.
BRANCH_SECRETARY = "luoxiaoyan"


@dataclass(frozen=True)
class DemoOrg:
    code: str
    parent: str | None
    type_code: str
    name: str
    short_name: str = ""


# Parents come before their children; siblings keep the order given here.
# (code, parent code, type code from data/org_types.toml, name, short name)
BRANCH, COMMUNITY, STREET = "branch", "community_committee", "street_working_committee"
DISCIPLINE, OFFICE, SCHOOL = "discipline_commission", "general_office", "school_committee"
Org = DemoOrg
ORGS: tuple[DemoOrg, ...] = (
    Org("MZ", None, "city_committee", "中共明州市委员会", "明州市委"),
    Org("MZ-JW", "MZ", DISCIPLINE, "中共明州市纪律检查委员会", "明州市纪委"),
    Org("MZ-BGS", "MZ", OFFICE, "中共明州市委办公室", "市委办公室"),
    Org("MZ-BGS-1", "MZ-BGS", BRANCH, "市委办公室机关党支部"),
    Org("MZ-ZZB", "MZ", "organization_department", "中共明州市委组织部", "市委组织部"),
    Org("MZ-ZZB-1", "MZ-ZZB", BRANCH, "市委组织部机关党支部"),
    Org("MZ-XCB", "MZ", "publicity_department", "中共明州市委宣传部", "市委宣传部"),
    Org("MZ-XCB-1", "MZ-XCB", BRANCH, "市委宣传部机关党支部"),
    # 东湖区
    Org("MZ-DH", "MZ", "district_committee", "中共明州市东湖区委员会", "东湖区委"),
    Org("MZ-DH-JW", "MZ-DH", DISCIPLINE, "中共明州市东湖区纪律检查委员会", "东湖区纪委"),
    Org("MZ-DH-BGS", "MZ-DH", OFFICE, "中共明州市东湖区委办公室", "东湖区委办公室"),
    Org("MZ-DH-HB", "MZ-DH", STREET, "中共明州市东湖区湖滨街道工作委员会", "湖滨街道党工委"),
    Org("MZ-DH-HB-01", "MZ-DH-HB", COMMUNITY, "中共湖滨街道湖滨社区委员会", "湖滨社区党委"),
    Org("MZ-DH-HB-01-1", "MZ-DH-HB-01", BRANCH, "湖滨社区第一党支部"),
    Org("MZ-DH-HB-01-2", "MZ-DH-HB-01", BRANCH, "湖滨社区第二党支部"),
    Org("MZ-DH-HB-01-3", "MZ-DH-HB-01", BRANCH, "湖滨社区离退休党员党支部"),
    Org("MZ-DH-HB-01-9", "MZ-DH-HB-01", BRANCH, "湖滨社区防汛抗灾临时党支部"),
    Org("MZ-DH-HB-02", "MZ-DH-HB", COMMUNITY, "中共湖滨街道柳岸社区委员会", "柳岸社区党委"),
    Org("MZ-DH-HB-02-1", "MZ-DH-HB-02", BRANCH, "柳岸社区第一党支部"),
    Org("MZ-DH-HB-02-2", "MZ-DH-HB-02", BRANCH, "柳岸社区第二党支部"),
    Org("MZ-DH-YH", "MZ-DH", STREET, "中共明州市东湖区月湖街道工作委员会", "月湖街道党工委"),
    Org("MZ-DH-YH-01", "MZ-DH-YH", COMMUNITY, "中共月湖街道桂花社区委员会", "桂花社区党委"),
    Org("MZ-DH-YH-01-1", "MZ-DH-YH-01", BRANCH, "桂花社区第一党支部"),
    Org("MZ-DH-YH-01-2", "MZ-DH-YH-01", BRANCH, "桂花社区第二党支部"),
    # 西山区
    Org("MZ-XS", "MZ", "district_committee", "中共明州市西山区委员会", "西山区委"),
    Org("MZ-XS-JW", "MZ-XS", DISCIPLINE, "中共明州市西山区纪律检查委员会", "西山区纪委"),
    Org("MZ-XS-BGS", "MZ-XS", OFFICE, "中共明州市西山区委办公室", "西山区委办公室"),
    Org("MZ-XS-QL", "MZ-XS", STREET, "中共明州市西山区青林街道工作委员会", "青林街道党工委"),
    Org("MZ-XS-QL-01", "MZ-XS-QL", COMMUNITY, "中共青林街道青林社区委员会", "青林社区党委"),
    Org("MZ-XS-QL-01-1", "MZ-XS-QL-01", BRANCH, "青林社区第一党支部"),
    Org("MZ-XS-QL-01-2", "MZ-XS-QL-01", BRANCH, "青林社区第二党支部"),
    Org("MZ-XS-SQ", "MZ-XS", STREET, "中共明州市西山区石桥街道工作委员会", "石桥街道党工委"),
    Org("MZ-XS-SQ-01", "MZ-XS-SQ", COMMUNITY, "中共石桥街道石桥社区委员会", "石桥社区党委"),
    Org("MZ-XS-SQ-01-1", "MZ-XS-SQ-01", BRANCH, "石桥社区第一党支部"),
    Org("MZ-XS-SQ-01-2", "MZ-XS-SQ-01", BRANCH, "石桥社区第二党支部"),
    Org("MZ-XS-SQ-01-3", "MZ-XS-SQ-01", BRANCH, "石桥社区第三党支部"),
    # 明州医科大学
    Org("MZYK", "MZ", "university_committee", "中共明州医科大学委员会", "明州医科大学党委"),
    Org("MZYK-JC", "MZYK", SCHOOL, "中共明州医科大学基础医学院委员会", "基础医学院党委"),
    Org("MZYK-JC-T1", "MZYK-JC", BRANCH, "基础医学院教工第一党支部"),
    Org("MZYK-JC-T2", "MZYK-JC", BRANCH, "基础医学院教工第二党支部"),
    Org("MZYK-JC-S1", "MZYK-JC", BRANCH, "基础医学院本科生党支部"),
    Org("MZYK-JC-S2", "MZYK-JC", BRANCH, "基础医学院研究生党支部"),
    Org("MZYK-LC", "MZYK", SCHOOL, "中共明州医科大学临床医学院委员会", "临床医学院党委"),
    Org("MZYK-LC-T1", "MZYK-LC", BRANCH, "临床医学院教工党支部"),
    Org("MZYK-LC-S1", "MZYK-LC", BRANCH, "临床医学院学生党支部"),
    Org("MZYK-HL", "MZYK", SCHOOL, "中共明州医科大学护理学院委员会", "护理学院党委"),
    Org("MZYK-HL-T1", "MZYK-HL", BRANCH, "护理学院教工党支部"),
    Org("MZYK-HL-S1", "MZYK-HL", BRANCH, "护理学院学生党支部"),
    # 国有企业
    Org("MZJT", "MZ", "soe_committee", "中共明州市交通投资有限公司委员会", "明州交投党委"),
    Org("MZJT-1", "MZJT", BRANCH, "明州交投机关第一党支部"),
    Org("MZJT-2", "MZJT", BRANCH, "明州交投运营分公司党支部"),
    Org("MZJT-3", "MZJT", BRANCH, "明州交投工程建设分公司党支部"),
)

# Later history, so the directory shows the states a real tree has: (code, new name, short).
RENAMES: tuple[tuple[str, str, str], ...] = (
    ("MZJT", "中共明州交通投资集团有限公司委员会", "明州交投集团党委"),
)
# A temporary branch whose task ended (已撤销), and a small branch merged into its neighbour.
DISSOLVE: tuple[tuple[str, str], ...] = (
    ("MZ-DH-HB-01-9", "汛期结束，临时党支部任务完成，予以撤销。"),
)
MERGE: tuple[tuple[str, str, str], ...] = (
    ("MZ-XS-SQ-01-3", "MZ-XS-SQ-01-2", "党员人数较少，经社区党委研究并报街道党工委批准合并。"),
)

FULL = Membership.Kind.FULL
PROB = Membership.Kind.PROBATIONARY


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    branch: str | None = None  # the branch the person is a party member of; None: 群众
    joined: str = ""  # YYYY-MM-DD, the date they joined the branch
    kind: str = FULL


P = DemoPerson
# The branch secretary comes first: the command prints the logins in this order.
PEOPLE: tuple[DemoPerson, ...] = (
    # 东湖区 · 湖滨街道 · 湖滨社区 / 桂花社区
    P("luoxiaoyan", "罗晓燕", "MZ-DH-HB-01-1", "2006-06-01"),
    P("gaoming", "高明", "MZ-DH-HB-01-1", "2011-07-01"),
    P("linfang", "林芳", "MZ-DH-HB-01-2", "2003-07-01"),
    P("liangwenbo", "梁文博", "MZ-DH-HB-01-1", "2016-11-01"),
    P("songguilan", "宋桂兰", "MZ-DH-HB-01-3", "1978-05-01"),
    P("tanglei", "唐磊", "MZ-DH-HB-01-1", "2025-06-28", PROB),
    P("hanxue", "韩雪", "MZ-DH-HB-01-2", "2014-06-01"),
    P("fengshuzhen", "冯淑珍"),
    P("caojianjun", "曹建军"),
    P("hejianhua", "何建华", "MZ-DH-HB-01-2", "2001-07-01"),
    P("xiaojing", "肖静", "MZ-DH-YH-01-1", "2008-07-01"),
    P("dengli", "邓莉"),
    # 东湖区委
    P("sunzhiqiang", "孙志强", "MZ-DH-HB-01-2", "1996-07-01"),
    P("zhuhongmei", "朱红梅", "MZ-DH-HB-01-2", "2002-07-01"),
    P("mali", "马丽", "MZ-DH-HB-02-1", "2015-07-01"),
    P("hujun", "胡军", "MZ-DH-HB-02-1", "1999-07-01"),
    P("guomin", "郭敏", "MZ-DH-HB-02-2", "2010-07-01"),
    # 西山区
    P("pengguoqing", "彭国庆", "MZ-XS-QL-01-1", "1995-07-01"),
    P("zengfan", "曾凡", "MZ-XS-QL-01-2", "2013-07-01"),
    P("xiehong", "谢宏", "MZ-XS-QL-01-1", "2007-07-01"),
    P("luqiang", "卢强", "MZ-XS-SQ-01-2", "2005-07-01"),
    P("yuanshuai", "袁帅", "MZ-XS-SQ-01-3", "2019-07-01"),  # moves with the merge below
    # 明州市委
    P("wangjianguo", "王建国", "MZ-BGS-1", "1990-07-01"),
    P("lixiuying", "李秀英", "MZ-BGS-1", "1998-07-01"),
    P("zhangwei", "张伟", "MZ-BGS-1", "2012-07-01"),
    P("chenjing", "陈静", "MZ-BGS-1", "2009-07-01"),
    P("yangzhigang", "杨志刚", "MZ-BGS-1", "1993-07-01"),
    P("liuyang", "刘洋", "MZ-XCB-1", "2004-07-01"),
    P("zhaolihua", "赵丽华", "MZ-ZZB-1", "1997-07-01"),
    P("huangxiaodong", "黄晓东", "MZ-ZZB-1", "2011-07-01"),
    # 明州医科大学
    P("dengweidong", "邓卫东", "MZYK-JC-T1", "1992-07-01"),
    P("xuqing", "许晴", "MZYK-JC-T2", "2010-07-01"),
    P("fubin", "傅斌", "MZYK-LC-T1", "2006-07-01"),
    P("shenjia", "沈佳", "MZYK-HL-T1", "2008-07-01"),
    P("suzhenhua", "苏振华", "MZYK-JC-T1", "2000-07-01"),
    P("jiangliping", "蒋丽萍", "MZYK-JC-T1", "2009-07-01"),
    P("lvzihan", "吕子涵", "MZYK-JC-S1", "2024-05-20"),
    P("dingyifan", "丁一凡", "MZYK-JC-S1", "2025-05-20", PROB),
    P("zhouwen", "周雯", "MZYK-LC-S1", "2023-11-01"),
    P("fangyue", "方悦"),
    P("chengli", "程立"),
    # 明州交投
    P("weidongsheng", "魏东升", "MZJT-1", "1994-07-01"),
    P("renjing", "任静", "MZJT-1", "2013-07-01"),
    P("jiangtao", "姜涛", "MZJT-2", "2005-07-01"),
    P("qianjin", "钱进", "MZJT-3", "2017-07-01"),
    P("tianye", "田野"),
    # 三员分立: three separate accounts, none holding a party-work role.
    P("sysadmin", "周立新"),
    P("secadmin", "吴敏"),
    P("auditor", "郑海燕"),
)

K = Affiliation.Kind
# ORG-4: the unit each person works, studies or lives in, member or not: (username, org, kind).
UNITS: tuple[tuple[str, str, str], ...] = (
    ("luoxiaoyan", "MZ-DH-HB-01", K.STAFF),
    ("gaoming", "MZ-DH-HB-01", K.RESIDENT),
    ("linfang", "MZ-DH-HB-01", K.STAFF),
    ("liangwenbo", "MZ-DH-HB-01", K.STAFF),
    ("songguilan", "MZ-DH-HB-01", K.RESIDENT),
    ("tanglei", "MZ-DH-HB-01", K.RESIDENT),
    ("hanxue", "MZ-DH-HB-01", K.RESIDENT),
    ("fengshuzhen", "MZ-DH-HB-01", K.RESIDENT),
    ("caojianjun", "MZ-DH-HB-01", K.RESIDENT),
    ("hejianhua", "MZ-DH-HB", K.STAFF),
    ("xiaojing", "MZ-DH-YH-01", K.STAFF),
    ("dengli", "MZ-DH-YH-01", K.RESIDENT),
    ("sunzhiqiang", "MZ-DH", K.STAFF),
    ("zhuhongmei", "MZ-DH-BGS", K.STAFF),
    ("mali", "MZ-DH-BGS", K.STAFF),
    ("hujun", "MZ-DH-JW", K.STAFF),
    ("guomin", "MZ-DH", K.STAFF),
    ("pengguoqing", "MZ-XS", K.STAFF),
    ("zengfan", "MZ-XS-BGS", K.STAFF),
    ("xiehong", "MZ-XS-QL-01", K.STAFF),
    ("luqiang", "MZ-XS-SQ-01", K.STAFF),
    ("yuanshuai", "MZ-XS-SQ-01", K.RESIDENT),
    ("wangjianguo", "MZ", K.STAFF),
    ("lixiuying", "MZ-BGS", K.STAFF),
    ("zhangwei", "MZ-BGS", K.STAFF),
    ("chenjing", "MZ-BGS", K.STAFF),
    ("yangzhigang", "MZ-JW", K.STAFF),
    ("liuyang", "MZ-XCB", K.STAFF),
    ("zhaolihua", "MZ-ZZB", K.STAFF),
    ("huangxiaodong", "MZ-ZZB", K.STAFF),
    ("dengweidong", "MZYK", K.TEACHER),
    ("xuqing", "MZYK", K.TEACHER),
    ("fubin", "MZYK-LC", K.MEDICAL),
    ("shenjia", "MZYK", K.TEACHER),
    ("suzhenhua", "MZYK-JC", K.TEACHER),
    ("jiangliping", "MZYK-JC", K.TEACHER),
    ("lvzihan", "MZYK-JC", K.STUDENT),
    ("dingyifan", "MZYK-JC", K.STUDENT),
    ("zhouwen", "MZYK-LC", K.STUDENT),
    ("fangyue", "MZYK-JC", K.STUDENT),
    ("chengli", "MZYK-LC", K.MEDICAL),
    ("weidongsheng", "MZJT", K.STAFF),
    ("renjing", "MZJT", K.STAFF),
    ("jiangtao", "MZJT", K.STAFF),
    ("qianjin", "MZJT", K.STAFF),
    ("tianye", "MZJT", K.STAFF),
    ("sysadmin", "MZ-BGS", K.STAFF),
    ("secadmin", "MZ-BGS", K.STAFF),
    ("auditor", "MZ-JW", K.STAFF),
)

R = Role
# ORG-3: who answers for what, (username, org, role, inherit down the subtree).
GRANTS: tuple[tuple[str, str, str, bool], ...] = (
    ("luoxiaoyan", "MZ-DH-HB-01-1", R.PRINCIPAL, False),  # 支部书记
    ("gaoming", "MZ-DH-HB-01-1", R.SUPERVISOR, False),  # 支部纪检委员
    ("gaoming", "MZ-DH-HB-01-1", R.REVIEWER, False),  # 兼保密审查
    ("liangwenbo", "MZ-DH-HB-01-1", R.CLERK, False),  # 支部宣传委员、党务公开联络员
    ("hanxue", "MZ-DH-HB-01-2", R.CLERK, False),  # 第二党支部党务公开联络员
    ("linfang", "MZ-DH-HB-01", R.PRINCIPAL, False),  # 社区党委书记
    ("linfang", "MZ-DH-HB-01", R.REVIEWER, False),
    ("linfang", "MZ-DH-HB-01", R.APPROVER, False),
    ("liangwenbo", "MZ-DH-HB-01", R.CLERK, False),
    ("hejianhua", "MZ-DH-HB", R.PRINCIPAL, False),  # 街道党工委书记
    ("hejianhua", "MZ-DH-HB", R.APPROVER, False),
    ("xiaojing", "MZ-DH-YH-01-1", R.PRINCIPAL, False),
    ("xiaojing", "MZ-DH-YH-01", R.CLERK, False),
    ("sunzhiqiang", "MZ-DH", R.PRINCIPAL, False),  # 区委书记
    ("sunzhiqiang", "MZ-DH", R.APPROVER, False),
    ("zhuhongmei", "MZ-DH-BGS", R.PRINCIPAL, False),  # 区委办公室主任
    ("zhuhongmei", "MZ-DH", R.COORDINATOR, False),
    ("mali", "MZ-DH", R.CLERK, False),
    ("mali", "MZ-DH", R.REVIEWER, False),
    ("hujun", "MZ-DH-JW", R.PRINCIPAL, False),  # 区纪委书记
    ("hujun", "MZ-DH", R.SUPERVISOR, True),
    ("guomin", "MZ-DH", R.ORG_ADMIN, True),  # 区委组织部组织科
    ("pengguoqing", "MZ-XS", R.PRINCIPAL, False),
    ("pengguoqing", "MZ-XS", R.APPROVER, False),
    ("zengfan", "MZ-XS", R.CLERK, False),
    ("zengfan", "MZ-XS", R.COORDINATOR, False),
    ("zengfan", "MZ-XS", R.ORG_ADMIN, True),
    ("xiehong", "MZ-XS-QL-01-1", R.PRINCIPAL, False),
    ("luqiang", "MZ-XS-SQ-01-2", R.PRINCIPAL, False),
    ("wangjianguo", "MZ", R.PRINCIPAL, False),  # 市委书记
    ("wangjianguo", "MZ", R.APPROVER, False),
    ("lixiuying", "MZ-BGS", R.PRINCIPAL, False),  # 市委办公室主任
    ("lixiuying", "MZ", R.COORDINATOR, False),
    ("zhangwei", "MZ", R.CLERK, False),
    ("chenjing", "MZ", R.REVIEWER, False),
    ("yangzhigang", "MZ-JW", R.PRINCIPAL, False),  # 市纪委书记
    ("yangzhigang", "MZ", R.SUPERVISOR, False),
    ("liuyang", "MZ", R.SPOKESPERSON, False),  # 市委宣传部副部长、新闻发言人
    ("liuyang", "MZ-XCB", R.PRINCIPAL, False),
    ("zhaolihua", "MZ-ZZB", R.PRINCIPAL, False),
    ("huangxiaodong", "MZ", R.ORG_ADMIN, True),
    ("dengweidong", "MZYK", R.PRINCIPAL, False),  # 校党委书记
    ("dengweidong", "MZYK", R.APPROVER, False),
    ("xuqing", "MZYK", R.CLERK, False),  # 党委办公室
    ("xuqing", "MZYK", R.COORDINATOR, False),
    ("xuqing", "MZYK", R.ORG_ADMIN, True),
    ("fubin", "MZYK", R.SPOKESPERSON, False),
    ("shenjia", "MZYK", R.SUPERVISOR, True),  # CMU 24: 纪检委员
    ("suzhenhua", "MZYK-JC", R.PRINCIPAL, False),  # 院党委书记
    ("suzhenhua", "MZYK-JC", R.REVIEWER, False),  # CMU 11(2): 书记把保密关
    ("jiangliping", "MZYK-JC-T1", R.PRINCIPAL, False),
    ("lvzihan", "MZYK-JC-S1", R.SUPERVISOR, False),
    ("weidongsheng", "MZJT", R.PRINCIPAL, False),  # 集团党委书记、董事长
    ("weidongsheng", "MZJT", R.APPROVER, False),
    ("renjing", "MZJT", R.CLERK, False),
    ("renjing", "MZJT", R.REVIEWER, False),
    ("jiangtao", "MZJT-2", R.PRINCIPAL, False),
)

PLATFORM_ROLES: tuple[tuple[str, str], ...] = (
    ("sysadmin", PlatformRole.Kind.SYSADMIN),
    ("secadmin", PlatformRole.Kind.SECADMIN),
    ("auditor", PlatformRole.Kind.AUDITOR),
)


@dataclass
class LoadResult:
    """What one run of `load_demo` created (all zero on a second run)."""

    orgs: int = 0
    users: int = 0
    memberships: int = 0
    affiliations: int = 0
    role_grants: int = 0
    platform_roles: int = 0
    org_changes: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.orgs,
                self.users,
                self.memberships,
                self.affiliations,
                self.role_grants,
                self.platform_roles,
                self.org_changes,
            )
        )


@transaction.atomic
def load_demo() -> LoadResult:
    """Create whatever part of the demo is missing; never change what is already there.

    One transaction: a failure half-way leaves the database as it was."""
    result = LoadResult()
    orgs = _load_orgs(result)
    _load_people(orgs, result)
    _load_history(orgs, result)
    return result


def _load_orgs(result: LoadResult) -> dict[str, Organization]:
    types = {t.code: t for t in OrgType.objects.all()}
    orgs = {o.code: o for o in Organization.objects.filter(code__in=[d.code for d in ORGS])}
    siblings: dict[str | None, int] = {}
    for d in ORGS:
        order = siblings[d.parent] = siblings.get(d.parent, 0) + 1
        if d.code in orgs:
            continue
        orgs[d.code] = org_create(
            actor=None,
            name=d.name,
            short_name=d.short_name,
            code=d.code,
            org_type=types[d.type_code],
            parent=orgs[d.parent] if d.parent else None,
            sort_order=order * 10,
        )
        result.orgs += 1
    return orgs


def _load_people(orgs: dict[str, Organization], result: LoadResult) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=[p.username for p in PEOPLE])}
    # Argon2 is deliberately slow: hash the shared password once, and only if needed.
    password = make_password(DEMO_PASSWORD) if len(users) < len(PEOPLE) else ""
    for p in PEOPLE:
        if p.username in users:
            continue
        user = user_create(
            actor=None, username=p.username, name=p.name, password_hash=password, via="load_demo"
        )
        users[p.username] = user
        result.users += 1
    # What an operator has changed since (a deactivated account, a dissolved organization)
    # is respected: the demo steps that no longer apply are skipped, not forced.
    for p in PEOPLE:
        user = users[p.username]
        if p.branch and _applies(user, orgs[p.branch]) and current_membership(user) is None:
            joined = datetime.date.fromisoformat(p.joined)
            member_join(user, orgs[p.branch], actor=None, started_on=joined, kind=p.kind)
            result.memberships += 1
    for username, code, kind in UNITS:
        user, org = users[username], orgs[code]
        if (
            _applies(user, org)
            and not Affiliation.objects.filter(user=user, org=org, ended_on__isnull=True).exists()
        ):
            affiliate(user, org, actor=None, kind=kind, started_on=datetime.date(2020, 1, 1))
            result.affiliations += 1
    for username, code, role, inherit in GRANTS:
        user, org = users[username], orgs[code]
        if (
            _applies(user, org)
            and not RoleGrant.objects.current().filter(user=user, org=org, role=role).exists()
        ):
            role_grant(user, org, role, actor=None, inherit=inherit)
            result.role_grants += 1
    for username, kind in PLATFORM_ROLES:
        user = users[username]
        if user.is_active and not PlatformRole.objects.filter(user=user).exists():
            platform_role_grant(user, kind, actor=None)
            result.platform_roles += 1


def _applies(user: User, org: Organization) -> bool:
    return user.is_active and org.is_active


def _load_history(orgs: dict[str, Organization], result: LoadResult) -> None:
    originals = {d.code: d for d in ORGS}
    for code, name, short_name in RENAMES:
        org = orgs[code]
        if org.name == originals[code].name:
            org_rename(org, actor=None, name=name, short_name=short_name)
            result.org_changes += 1
    for code, note in DISSOLVE:
        org = orgs[code]
        if org.is_active:
            org_dissolve(org, actor=None, note=note)
            result.org_changes += 1
    for code, into, note in MERGE:
        org = orgs[code]
        if org.is_active:
            org_merge(org, orgs[into], actor=None, note=note)
            result.org_changes += 1


# --- The logins table the command prints -------------------------------------------------

SHORT_ROLE = {
    Role.PRINCIPAL: "主要负责人",
    Role.CLERK: "党务公开工作人员",
    Role.REVIEWER: "保密审查人",
    Role.APPROVER: "审批人",
    Role.COORDINATOR: "办公室统筹协调",
    Role.SPOKESPERSON: "新闻发言人",
    Role.SUPERVISOR: "监督员",
    Role.ORG_ADMIN: "组织管理员",
}


def _org_label(code: str) -> str:
    d = next(o for o in ORGS if o.code == code)
    renamed = next((r for r in RENAMES if r[0] == code), None)
    if renamed:
        return renamed[2] or renamed[1]
    return d.short_name or d.name


def login_rows() -> list[tuple[str, str, str, str]]:
    """(username, name, role, organization) for every demo account, in PEOPLE order.

    Someone with roles in several organizations gets one line per organization; the
    continuation lines leave username and name blank."""
    merged_into = {code: into for code, into, _ in MERGE}
    platform = dict(PLATFORM_ROLES)
    rows: list[tuple[str, str, str, str]] = []
    for p in PEOPLE:
        lines: list[tuple[str, str]] = []  # (role, organization)
        if p.username in platform:
            lines.append((str(PlatformRole.Kind(platform[p.username]).label), "全平台"))
        by_org: dict[str, list[str]] = {}
        for username, code, role, inherit in GRANTS:
            if username == p.username:
                label = SHORT_ROLE[Role(role)] + ("（含下级组织）" if inherit else "")
                by_org.setdefault(code, []).append(label)
        lines += [("、".join(labels), _org_label(code)) for code, labels in by_org.items()]
        if not lines and p.branch:
            branch = merged_into.get(p.branch, p.branch)
            lines.append((str(Membership.Kind(p.kind).label), _org_label(branch)))
        if not lines:
            _, code, kind = next(u for u in UNITS if u[0] == p.username)
            lines.append((f"群众（{Affiliation.Kind(kind).label}）", _org_label(code)))
        for i, (role, org) in enumerate(lines):
            rows.append((p.username, p.name, role, org) if i == 0 else ("", "", role, org))
    return rows


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table whose columns line up in a terminal, CJK included."""
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(pad(c, w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)
