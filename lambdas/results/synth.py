"""Synthetic valid submissions drawn from the questionnaire, written as exactly the export's Parquet, at any size.

For tests and benchmarks of the results: the same files, columns and types as `lambdas.admin.export` writes, so
everything downstream reads them as it reads a real campaign. The answers are drawn to look like one:
- provinces in the shares of China's netizens (`NETIZENS`), cities of the province, practitioners nearer the hubs;
- demographics with plausible shares (young for the public questionnaire), occupation and education by age;
- one latent satisfaction per respondent, shifted by province and age, drives the ratings, the matrix rows and the
  single choices the index scores (and a few experiences, such as spam and leaks), each row with its own level and
  a province effect, so the index differs between provinces and domains and the answers correlate;
- show-if followed (a follow-up only when it is shown, required ones always answered), multi choices within their
  min and max with "none" alone;
- completion times log-normal above the published fastest believable time; days over the campaign window with the
  launch at opening time and a daily rhythm; sponsors from the catalog (a few big ones, mostly their own province's
  respondents) with their channels; suggestions from about 40 % of respondents, composed from realistic phrases.

Drawing is by column with numpy, a chunk at a time (one Parquet row group each), so memory stays flat at any size
and a chunk's draws depend only on the seed and the chunk's number.
"""

from __future__ import annotations

import argparse
import re
import time
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lambdas.admin import export
from lambdas.survey import catalog as catalogs
from lambdas.survey import questionnaire, rules
from lambdas.survey.catalog import BEIJING, UNATTRIBUTED, Catalog
from lambdas.survey.questionnaire import Question, Questionnaire, Survey
from lambdas.survey.regions import CITIES, PROVINCES

CHUNK = 250_000  # rows drawn and written at a time: one row group
WORLD = 20200722  # seeds the fixed effects (province, item): the same "country" whatever the sample's seed

# Netizens per province, 10,000s, end of 2020: resident population of the 7th census (2020) times an approximate
# internet penetration per province, in line with CNNIC's statistical reports (national 70.4 %; the coastal
# provinces and municipalities above, the west below). An estimate for realistic samples, not a statistic.
NETIZENS: dict[str, int] = {
    "北京市": 1751, "天津市": 1054, "河北省": 5073, "山西省": 2375, "内蒙古自治区": 1635,
    "辽宁省": 2981, "吉林省": 1589, "黑龙江省": 2070,
    "上海市": 1990, "江苏省": 6272, "浙江省": 5036, "安徽省": 3906, "福建省": 3157, "江西省": 2892, "山东省": 6803,
    "河南省": 6260, "湖北省": 3869, "湖南省": 4252, "广东省": 9577, "广西壮族自治区": 3258, "海南省": 706,
    "重庆市": 2179, "四川省": 5188, "贵州省": 2391, "云南省": 2833, "西藏自治区": 219,
    "陕西省": 2649, "甘肃省": 1501, "青海省": 391, "宁夏回族自治区": 482, "新疆维吾尔自治区": 1758,
}
# Practitioners (the pro questionnaire) are nearer the industry's hubs than netizens are.
HUBS: dict[str, float] = {"北京市": 3.0, "上海市": 2.0, "广东省": 1.6, "浙江省": 1.5, "江苏省": 1.3, "四川省": 1.2,
                          "湖北省": 1.2, "福建省": 1.1, "陕西省": 1.1}

# Option weights by questionnaire and question; options left out get the mean weight, questions left out are
# uniform. "*" applies to every questionnaire.
PRIORS: dict[str, dict[str, dict[str, float]]] = {
    "public": {
        "gender": {"male": 52, "female": 48},
        "age": {"under18": 12, "age18_24": 24, "age25_30": 17, "age31_40": 21, "age41_50": 14, "age51_60": 8,
                "over60": 4},
        "education": {"junior_or_below": 18, "senior": 24, "college": 22, "bachelor": 30, "master_or_above": 6},
        "years_online": {"under1": 3, "y1_3": 10, "y3_5": 17, "y5_10": 32, "over10": 38},
        "daily_hours": {"under1h": 10, "h1_3": 30, "h3_6": 32, "h6_10": 18, "over10h": 10},
        "trend": {"much_better": 30, "better": 40, "same": 16, "worse": 5, "much_worse": 2, "unsure": 7},
        "fraud_victim": {"victim_yes": 8, "victim_no": 84, "victim_unsure": 8},
        "victim_loss": {"no_money": 25, "under100": 20, "l100_1k": 25, "l1k_5k": 15, "l5k_10k": 7, "over10k": 8},
        "fraud_reported": {"police": 35, "platform": 25, "not_reported": 40},
        "info_leak": {"often": 20, "sometimes": 45, "never": 20, "unsure": 15},
        "spam_frequency": {"daily": 18, "weekly": 32, "monthly": 22, "rarely": 22, "never": 6},
        "report_channel": {"known_used": 25, "known_unused": 45, "unknown": 30},
        "law_awareness": {"well": 15, "some": 50, "heard": 28, "never_heard": 7},
        # multi choices: the chance each option is ticked
        "top_concerns": {"fraud": .7, "info_leak": .6, "spam": .45, "harmful": .2, "rumors": .2, "violence": .15,
                         "malware": .15, "minors": .2},
        "fraud_seen": {"shopping": .35, "loan": .3, "investment": .2, "impersonation": .25, "dating": .12,
                       "game": .1, "phishing": .35, "none": .25},
        "not_reported_reason": {"small_loss": .45, "useless": .35, "no_channel": .2, "troublesome": .25,
                                "embarrassed": .08, "other": .05},
        "leak_signs": {"precise_calls": .65, "precise_sms": .5, "account_stolen": .15, "fraud_target": .2,
                       "over_collection": .35, "other": .03},
        "harmful_content": {"porn": .25, "gambling": .25, "rumors": .4, "terror": .05, "drugs": .04,
                            "fake_ads": .45, "cyberbully": .25, "none": .2},
        "rules_known": {"data_security": .35, "pipl": .45, "app_rules": .25, "content_rules": .2,
                        "minors_law": .35, "none": .2},
        "priorities": {"fraud": .65, "privacy": .6, "spam": .4, "content": .25, "platforms": .25,
                       "education": .3, "minors": .25},
    },
    "pro": {
        "gender": {"male": 68, "female": 32},
        "age": {"under25": 15, "age25_30": 30, "age31_40": 35, "age41_50": 15, "over50": 5},
        "education": {"senior_or_below": 5, "college": 20, "bachelor": 58, "master": 15, "doctor": 2},
        "job_role": {"security": 25, "dev": 20, "ops": 15, "product": 10, "management": 12, "compliance": 5,
                     "sales": 8, "other": 5},
        "company_type": {"internet": 22, "security_vendor": 15, "telecom": 10, "finance": 10, "government": 18,
                         "soe": 10, "private": 12, "other": 3},
        "company_size": {"under50": 15, "s50_300": 25, "s300_1k": 22, "s1k_10k": 23, "over10k": 15},
        "industry_years": {"under1": 8, "y1_3": 22, "y3_5": 25, "y5_10": 27, "over10": 18},
        "trend": {"much_better": 28, "better": 42, "same": 17, "worse": 5, "much_worse": 2, "unsure": 6},
        "security_team": {"dedicated_dept": 35, "dedicated_staff": 20, "part_time": 25, "outsourced": 7,
                          "nobody": 5, "unsure": 8},
        "training_freq": {"monthly": 15, "quarterly": 30, "yearly": 35, "rarely": 15, "never": 5},
        "budget_trend": {"increased": 20, "slightly_up": 35, "unchanged": 30, "decreased": 7, "unsure": 8},
        "incident": {"incident_yes": 20, "incident_no": 60, "unsure": 20},
        "incident_reported": {"reported": 50, "internal_only": 35, "unsure": 15},
        "law_awareness": {"well": 40, "some": 48, "heard": 10, "never_heard": 2},
        "mlps_status": {"completed": 45, "in_progress": 20, "planned": 10, "not_started": 10, "unsure": 15},
        "talent_shortage": {"severe": 25, "some": 50, "adequate": 18, "unsure": 7},
        "top_threats": {"ransomware": .5, "data_breach": .65, "apt": .25, "ddos": .2, "supply_chain": .2,
                        "insider": .2, "black_industry": .3, "vulnerabilities": .35},
        "personal_issues": {"fraud": .35, "info_leak": .5, "spam": .6, "harmful": .2, "account_stolen": .1,
                            "none": .15},
        "practices": {"policy": .75, "access_control": .7, "data_protection": .45, "monitoring": .55,
                      "vuln_mgmt": .55, "emergency": .45, "backup": .65, "none": .04},
        "incident_types": {"malware": .45, "ransomware": .2, "data_leak": .2, "defacement": .15, "ddos": .2,
                           "phishing": .4, "other": .05},
        "rules_known": {"mlps2": .7, "data_security": .55, "pipl": .55, "cii": .4, "review": .3, "pi_spec": .35,
                        "none": .05},
        "compliance_difficulties": {"cost": .55, "talent": .5, "unclear": .25, "cloud": .2, "time": .25,
                                    "leadership": .1, "none": .05},
        "hard_roles": {"pentest": .45, "ops": .25, "architect": .4, "data": .35, "compliance": .2,
                       "incident": .3, "dev": .25},
        "priorities": {"law": .35, "enforcement": .3, "data": .5, "talent": .45, "tech": .4, "industry": .25,
                       "awareness": .4},
    },
}

# Single choices that depend on an earlier answer: questionnaire -> question -> (parent question, parent option ->
# option weights). Parent options left out use PRIORS.
CONDITIONAL: dict[str, dict[str, tuple[str, dict[str, dict[str, float]]]]] = {
    "public": {
        "education": ("age", {
            "under18": {"junior_or_below": 60, "senior": 40},
            "age18_24": {"junior_or_below": 8, "senior": 25, "college": 30, "bachelor": 33, "master_or_above": 4},
            "over60": {"junior_or_below": 45, "senior": 30, "college": 12, "bachelor": 11, "master_or_above": 2},
        }),
        "occupation": ("age", {
            "under18": {"student": 93, "worker_farmer": 2, "unemployed": 2, "other": 3},
            "age18_24": {"student": 50, "enterprise": 20, "self_employed": 8, "worker_farmer": 8,
                         "civil_servant": 5, "unemployed": 5, "other": 4},
            "age25_30": {"student": 5, "enterprise": 38, "civil_servant": 14, "self_employed": 15,
                         "worker_farmer": 14, "unemployed": 6, "other": 8},
            "age31_40": {"enterprise": 36, "civil_servant": 18, "self_employed": 17, "worker_farmer": 16,
                         "unemployed": 4, "other": 9},
            "age41_50": {"enterprise": 30, "civil_servant": 20, "self_employed": 17, "worker_farmer": 20,
                         "unemployed": 4, "other": 9},
            "age51_60": {"enterprise": 20, "civil_servant": 18, "self_employed": 13, "worker_farmer": 22,
                         "retired": 15, "unemployed": 4, "other": 8},
            "over60": {"retired": 70, "worker_farmer": 10, "self_employed": 5, "civil_servant": 5, "other": 10},
        }),
        "years_online": ("age", {
            "under18": {"under1": 5, "y1_3": 30, "y3_5": 35, "y5_10": 30},
            "over60": {"under1": 10, "y1_3": 30, "y3_5": 30, "y5_10": 22, "over10": 8},
        }),
    },
    "pro": {
        "industry_years": ("age", {
            "under25": {"under1": 35, "y1_3": 50, "y3_5": 15},
            "over50": {"y3_5": 10, "y5_10": 30, "over10": 60},
        }),
    },
}

# Single choices ordered from the worst experience to the best: the latent satisfaction moves answers along them
# (with this loading); options not listed (不清楚) are drawn apart. Singles the index scores are ordered by score.
ORDERED: dict[str, dict[str, tuple[tuple[str, ...], float]]] = {
    "public": {
        "fraud_victim": (("victim_yes", "victim_no"), .3),
        "info_leak": (("often", "sometimes", "never"), .35),
        "spam_frequency": (("daily", "weekly", "monthly", "rarely", "never"), .3),
        "law_awareness": (("never_heard", "heard", "some", "well"), .15),
    },
    "pro": {"incident": (("incident_yes", "incident_no"), .2)},
}
# Multi choices of bad experiences: the less satisfied tick more of them (a logit shift per unit of satisfaction).
TICKS_FALL: dict[str, dict[str, float]] = {
    "public": {"fraud_seen": -.4, "harmful_content": -.3, "top_concerns": 0.0},
    "pro": {"personal_issues": -.3},
}

# Ratings and matrix rows: the level of each (a shift of the latent scale; 0 is a mean of about 3.9 of 5) and how
# strongly the latent satisfaction drives it (negative: a burden, which the satisfied feel less).
LEVEL: dict[str, float] = {
    "overall": .15, "satisfaction.police": .45, "satisfaction.cac": .2, "satisfaction.telecom": -.25,
    "satisfaction.platforms": -.1, "satisfaction.privacy": -.35, "satisfaction.minors": .05,
    "platform_perf.social": .1, "platform_perf.ecommerce": .15, "platform_perf.payment": .4,
    "platform_perf.video": -.15, "platform_perf.games": -.3, "law_effect": .25,
    "satisfaction.legislation": .35, "satisfaction.enforcement": .2, "satisfaction.crime": .3,
    "satisfaction.cii": .1, "satisfaction.talent": -.3, "satisfaction.industry": -.1, "satisfaction.sharing": -.4,
    "compliance_burden": -.1,
}
LOADING: dict[str, float] = {"compliance_burden": -.2}
DEFAULT_LOADING = .6
CUTS = np.array([-1.9, -1.3, -.5, .6])  # latent scale -> 1..5
AGE_EFFECT = {"under18": .25, "age18_24": .1, "under25": .1, "age25_30": 0, "age31_40": -.05, "age41_50": -.05,
              "age51_60": .05, "over50": .05, "over60": .15}
AGE_PACE = {"under18": 1.05, "age41_50": 1.1, "age51_60": 1.2, "over50": 1.15, "over60": 1.35}
PROVINCE_SD, ITEM_PROVINCE_SD, CHOICE_PROVINCE_SD = .18, .1, .2

# Completion: median seconds above the fastest believable time, and the spread (log scale).
EXTRA_SECONDS = {"public": 330.0, "pro": 420.0}
SECONDS_SIGMA = .5
WRITING_SECONDS = 60.0  # a suggestion's median writing time
LONGEST = 3 * 3600

# The day: a launch burst after opening, then a daily rhythm (Beijing hours); more on the first and last days.
HOURS = np.array([.5, .3, .2, .15, .15, .3, .8, 1.8, 3.5, 6.0, 6.5, 5.5, 4.0, 4.0, 4.8, 5.2, 5.0, 4.2, 3.5, 4.0,
                  4.8, 5.0, 3.8, 1.8])
LAUNCH_SHARE, LAUNCH_MINUTES = .4, 45.0

# Sponsors: kinds reach differently; most respondents come through a sponsor of their own province.
KIND_REACH = {"initiator": 1.0, "media": 1.5, "enterprise": .6}
ZIPF = 1.1
OWN_PROVINCE = .85
UNATTRIBUTED_SHARE = .004  # links of a slug the list no longer knows
STALE_LINKS = ("survey2019/wechat", "test/website")
FORMER_SLUG_SHARE = .03  # of a renamed sponsor's rows: old links still in circulation
CHANNEL_REACH = {"wechat": 45, "website": 20, "app": 10, "douyin": 8, "weibo": 7, "poster": 5, "intranet": 3,
                 "sms": 2}
PRO_CHANNEL_BOOST = {"intranet": 6.0, "website": 1.3}

# Free text.
SUGGESTING = {"public": .4, "pro": .45}
TOPIC_QUESTION = "priorities"  # suggestions mostly speak of what the respondent asked to strengthen
PHRASES: dict[str, tuple[str, ...]] = {
    "fraud": ("加大对电信网络诈骗的打击力度", "建议{province}公安加强反诈宣传，让老年人也能识别骗局",
              "希望银行和支付平台对可疑转账及时预警拦截", "刷单返利、虚假投资理财诈骗太多，希望重点整治",
              "冒充客服退款的诈骗电话防不胜防，希望从源头治理", "希望被骗后报警能够及时立案，追回损失",
              "推广国家反诈中心App，提高群众防骗意识", "严厉打击跨境电信诈骗团伙和帮助洗钱的犯罪"),
    "privacy": ("加强个人信息保护，严惩倒卖个人信息的行为", "App过度索取权限的问题希望得到整治",
                "快递单上的个人信息容易泄露，建议全面推广隐私面单", "希望尽快出台并落实个人信息保护法",
                "小区和商场用人脸识别收集信息应当规范", "企业泄露用户数据应当承担责任，加大处罚力度",
                "注销账号太难，希望平台提供便捷的注销渠道"),
    "spam": ("骚扰电话太多，几乎每天都接到推销电话，希望彻底治理", "垃圾短信屏蔽不完，建议运营商加强拦截",
             "推销电话能叫出我的姓名，个人信息明显被泄露了", "建议{province}通信管理局加大对骚扰电话的查处力度",
             "希望电话号码实名制真正落实到位", "营销短信退订无效，希望依法处罚"),
    "content": ("清理网络谣言和虚假信息，营造清朗的网络空间", "网络赌博和色情广告弹窗太多，希望严厉打击",
                "网络暴力和人肉搜索要依法追责", "短视频平台低俗内容泛滥，需要加强审核",
                "保健品虚假广告要重点整治", "希望举报渠道更加方便，举报后有反馈"),
    "platforms": ("压实互联网平台的主体责任，平台不能只顾赚钱", "电商平台对假货和售后纠纷的处理要更及时",
                  "网购退款维权太难，希望保护消费者的合法权益", "大数据杀熟的问题应当管一管",
                  "平台客服难以联系，投诉后没有结果", "网络支付平台的资金安全需要进一步保障"),
    "education": ("加强网络安全宣传教育，进社区、进学校、进农村", "多开展网络安全知识讲座，提高全民网络安全意识",
                  "希望在{city}多举办网络安全宣传活动", "针对老年人开展防范网络诈骗的培训",
                  "媒体多曝光典型案例，以案说法", "网络安全知识应当纳入中小学课程"),
    "minors": ("加强未成年人保护，防止孩子沉迷网络游戏", "网络游戏防沉迷系统要真正落实实名认证",
               "直播打赏对未成年人的影响需要重视", "学校和家长要配合，引导孩子正确使用网络",
               "严厉打击针对未成年人的网络不良信息", "希望平台的青少年模式不要形同虚设"),
    "law": ("尽快完善数据安全和个人信息保护的配套法规和标准", "等级保护2.0标准的实施指南需要进一步细化",
            "法律法规之间的衔接需要加强，避免多头监管", "建议出台关键信息基础设施安全保护的实施细则",
            "希望标准更新时给企业留出足够的整改时间"),
    "enforcement": ("加大执法检查力度，对违法违规行为依法处罚", "执法标准要统一，避免各地尺度不一",
                    "建议{province}网信、公安部门加强对重点行业的监督检查", "对数据泄露事件的责任追究要到位",
                    "严厉打击网络黑灰产业链"),
    "data": ("加强数据安全管理，落实数据分类分级保护", "数据出境安全评估的流程希望更加明确",
             "企业要建立健全数据安全管理制度", "个人信息收集使用要遵循最小必要原则",
             "建议加强对第三方SDK收集个人信息的管理"),
    "talent": ("网络安全人才缺口很大，希望加快人才培养", "建议高校加强网络空间安全学科建设，推进产教融合",
               "希望{city}出台吸引网络安全人才的政策", "完善网络安全从业人员的职业资格认证体系",
               "企业安全人员待遇偏低，人才流失严重"),
    "tech": ("加快突破关键核心技术，推进国产化替代", "支持密码技术、零信任等新技术的研究和应用",
             "加强威胁情报共享，提升态势感知能力", "重视供应链安全，开源软件漏洞要及时通报",
             "云计算和物联网的安全防护能力有待提升"),
    "industry": ("加大对网络安全产业的扶持力度，培育龙头企业", "政府采购应当重视网络安全投入",
                 "建议{province}建设网络安全产业园区，支持中小企业发展", "希望网络安全投入在信息化预算中占一定比例",
                 "鼓励企业参与网络安全攻防演练"),
    "awareness": ("提升全民网络安全意识，从领导干部做起", "单位员工的安全意识薄弱，需要常态化培训",
                  "多组织网络安全攻防演练和应急演练", "钓鱼邮件的防范意识需要加强",
                  "加强网络安全宣传，营造人人参与的氛围"),
    "general": ("希望这样的调查每年都开展下去", "希望调查结果能够公开，并用于改进工作", "总体感觉网络环境比以前好了很多",
                "相关部门辛苦了，希望继续努力", "希望政府部门多听取网民的意见和建议", "网络安全靠大家，我愿意积极参与",
                "希望{province}的网络环境越来越好"),
}
CLOSINGS = ("", "", "", "", "谢谢！", "辛苦了！", "希望能采纳。")
OTHER_TEXT: dict[str, tuple[str, ...]] = {
    "occupation_other": ("外卖骑手", "网约车司机", "教师", "医生", "护士", "律师", "保安", "家庭主妇", "网络主播",
                         "快递员", "销售", "会计", "军人", "自由撰稿人"),
    "job_role_other": ("数据分析", "项目经理", "售前技术支持", "安全咨询", "审计", "培训讲师", "行政", "采购"),
}
OTHER_ANSWERED = .7  # of those shown an optional short text question
OPTIONAL_ANSWERED = .95  # of those shown an optional choice or rating


def generate(out_dir: Path, survey: Survey, catalog: Catalog, size: int, seed: int = 0, share_pro: float = 0.1,
             min_seconds: Mapping[str, int] | None = None) -> dict[str, int]:
    """Write `size` synthetic valid submissions as submissions-<questionnaire>.parquet into `out_dir`; returns the
    rows per questionnaire. `share_pro` of them answer the practitioners' questionnaire (when there is one), the
    rest the others in equal parts. Completion times start at `min_seconds` (default: the published rules')."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fastest = dict(min_seconds if min_seconds is not None else rules.load().min_seconds)
    sizes = _split(size, tuple(survey.questionnaires), share_pro)
    window = _Window(catalog)
    sponsors = _Sponsors(catalog)
    for number, (qid, qn) in enumerate(survey.questionnaires.items()):
        schema = parquet_schema(qn)
        with pq.ParquetWriter(out_dir / f"submissions-{qid}.parquet", schema) as writer:
            for chunk, start in enumerate(range(0, sizes[qid], CHUNK)):
                rng = np.random.default_rng([seed, number, chunk])
                n = min(CHUNK, sizes[qid] - start)
                columns = _Chunk(qn, rng, n, sponsors, window, fastest.get(qid, 0)).draw(seed, start)
                writer.write_table(pa.Table.from_arrays([columns[c] for c in schema.names], schema=schema))
    return sizes


def parquet_schema(qn: Questionnaire) -> pa.Schema:
    """The export's Parquet schema for a questionnaire, built by the export's own rule (export.py, _Writers)."""
    types = {"received": pa.string(), "valid": pa.bool_(), "seconds": pa.int64()}
    q_types = {name: (pa.int64() if q.type in ("rating", "matrix") else pa.string())
               for q in qn.questions for name in q.field_names()}
    return pa.schema([(c, types.get(c) or q_types.get(c) or pa.string()) for c in export.columns(qn)])


def _split(size: int, qids: tuple[str, ...], share_pro: float) -> dict[str, int]:
    if "pro" not in qids or len(qids) == 1:
        return {q: size // len(qids) + (i < size % len(qids)) for i, q in enumerate(qids)}
    pro = round(size * share_pro)
    rest = [q for q in qids if q != "pro"]
    out = {q: (size - pro) // len(rest) + (i < (size - pro) % len(rest)) for i, q in enumerate(rest)}
    return {q: (pro if q == "pro" else out[q]) for q in qids}


# ---- the campaign: window and sponsors ---------------------------------------------------------------------------

class _Window:
    """The campaign's days as Beijing midnights, with how many submissions each day gets relative to the others."""

    def __init__(self, catalog: Catalog) -> None:
        self.days = catalog.days()
        self.midnights = np.array([int(datetime.fromisoformat(d).replace(tzinfo=BEIJING).timestamp())
                                   for d in self.days], dtype=np.int64)
        self.opens = int(catalog.opens.timestamp())
        self.closes = int(catalog.closes.timestamp())
        last = len(self.days) - 1
        i = np.arange(len(self.days))
        weights = 1 + 1.5 * np.exp(-i / 1.5) + .8 * np.exp(-(last - i) / 1.0)
        self.day_p = weights / weights.sum()
        self.hour_p = HOURS / HOURS.sum()

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(day index, epoch milliseconds) of `n` submissions, all inside [opens, closes)."""
        day = rng.choice(len(self.days), size=n, p=self.day_p)
        second = rng.choice(24, size=n, p=self.hour_p) * 3600 + rng.integers(0, 3600, size=n)
        first_open = self.opens - int(self.midnights[0])  # seconds into the first day
        if first_open > 0:
            first = day == 0
            burst = first & ((second < first_open) | (rng.random(n) < LAUNCH_SHARE))
            after = rng.exponential(LAUNCH_MINUTES * 60, size=n).astype(np.int64)
            second = np.where(burst, first_open + after % (86400 - first_open), second)
        last_close = self.closes - int(self.midnights[-1])
        if last_close < 86400:
            second = np.where(day == len(self.days) - 1, second % last_close, second)
        ms = (self.midnights[day] + second) * 1000 + rng.integers(0, 1000, size=n)
        ms = np.clip(ms, self.opens * 1000, self.closes * 1000 - 1)
        return day, ms


class _Sponsors:
    """The catalog's sponsors with how many respondents each brings: a few big ones, mostly from their province."""

    def __init__(self, catalog: Catalog) -> None:
        infos = list(catalog.sponsors.values())
        self.slugs = [s.slug for s in infos]
        world = np.random.default_rng(WORLD)
        rank = world.permutation(len(infos)) + 1
        reach = np.array([KIND_REACH.get(s.kind, 1.0) for s in infos]) / rank ** ZIPF
        self.national = reach / reach.sum() if len(infos) else reach
        self.by_province: dict[int, np.ndarray] = {}
        for p, name in enumerate(PROVINCES):
            own = np.array([s.province == name for s in infos])
            if own.any():
                local = np.where(own, reach, 0) / reach[own].sum()
                self.by_province[p] = OWN_PROVINCE * local + (1 - OWN_PROVINCE) * self.national
        self.channels = sorted({c for s in infos for c in s.channels})
        self.channel_of = [sorted(s.channels) for s in infos]
        self.former = {}
        for old, new in catalog.aliases.items():
            self.former.setdefault(new, old)

    def channel_p(self, pro: bool) -> np.ndarray:
        """Per sponsor, the chance of each channel (columns in `self.channels`), cumulative."""
        table = np.zeros((len(self.slugs), len(self.channels)))
        for s, own in enumerate(self.channel_of):
            for c in own:
                boost = PRO_CHANNEL_BOOST.get(c, 1.0) if pro else 1.0
                table[s, self.channels.index(c)] = CHANNEL_REACH.get(c, 3) * boost
        return np.cumsum(table / np.maximum(table.sum(1, keepdims=True), 1e-12), axis=1)


# ---- one chunk of respondents -------------------------------------------------------------------------------------

class _Chunk:
    """The columns of `n` respondents to one questionnaire, drawn in questionnaire order."""

    def __init__(self, qn: Questionnaire, rng: np.random.Generator, n: int, sponsors: _Sponsors, window: _Window,
                 fastest: int) -> None:
        self.qn, self.rng, self.n, self.sponsors, self.window, self.fastest = qn, rng, n, sponsors, window, fastest
        self.singles: dict[str, np.ndarray] = {}  # question -> option index, -1 when not answered
        self.multis: dict[str, np.ndarray] = {}  # question -> n x options booleans
        self.columns: dict[str, pa.Array] = {}
        self.province = self.city = np.zeros(0, dtype=np.int64)
        self._latent: np.ndarray | None = None
        self.writing: np.ndarray | None = None  # who wrote a suggestion: they took longer
        self.scored = {i.question: i for d in (qn.index.domains if qn.index else ()) for i in d.items if i.scores}

    def draw(self, seed: int, start: int) -> dict[str, pa.Array]:
        for q in self.qn.questions:
            shown = self._shown(q)
            if q.type == "region":
                self._region(q)
            elif q.type == "single":
                self._single(q, self._answering(q, shown))
            elif q.type == "multi":
                self._multi(q, self._answering(q, shown))
            elif q.type == "rating":
                self.columns[q.id] = self._rating(q.id, self._answering(q, shown))
            elif q.type == "matrix":
                answering = self._answering(q, shown)
                for row, _ in q.rows:
                    self.columns[f"{q.id}.{row}"] = self._rating(f"{q.id}.{row}", answering)
            else:
                self.columns[q.id] = self._text(q, shown)
        self._meta(seed, start)
        return self.columns

    # the respondent

    def _region(self, q: Question) -> None:
        weights = np.array([NETIZENS[p] for p in PROVINCES], dtype=float)
        if self.qn.id == "pro":
            weights *= np.array([HUBS.get(p, 1.0) for p in PROVINCES])
        self.province = self.rng.choice(len(PROVINCES), size=self.n, p=weights / weights.sum())
        city_names = [c for p in PROVINCES for c in CITIES[p]]
        first = np.cumsum([0] + [len(CITIES[p]) for p in PROVINCES])
        self.city = np.zeros(self.n, dtype=np.int64)
        for p, name in enumerate(PROVINCES):
            at = np.flatnonzero(self.province == p)
            k = len(CITIES[name])
            w = 1 / np.arange(1, k + 1) ** .6  # the capital (listed first) and the big cities draw more
            w[0] *= 2
            self.city[at] = first[p] + self.rng.choice(k, size=len(at), p=w / w.sum())
        self.columns[f"{q.id}.province"] = pa.array(PROVINCES).take(pa.array(self.province))
        self.columns[f"{q.id}.city"] = pa.array(city_names).take(pa.array(self.city))

    def latent(self) -> np.ndarray:
        """Each respondent's satisfaction on a standard-normal-like scale: province and age shift it."""
        if self._latent is None:
            world = np.random.default_rng([WORLD, 1])
            z = world.normal(0, PROVINCE_SD, len(PROVINCES))[self.province]
            age = self._question("age")
            if age is not None and age.id in self.singles:
                shift = np.array([AGE_EFFECT.get(o, 0.0) for o, _ in age.options] + [0.0])
                z = z + shift[self.singles[age.id]]
            self._latent = z + self.rng.standard_normal(self.n)
        return self._latent

    def _question(self, qid: str) -> Question | None:
        return next((q for q in self.qn.questions if q.id == qid), None)

    def _world(self, key: str, shape: tuple[int, ...], sd: float) -> np.ndarray:
        """A fixed effect of the made-up country: the same for every seed and chunk."""
        return np.random.default_rng([WORLD, zlib.crc32(f"{self.qn.id}/{key}".encode())]).normal(0, sd, shape)

    # show-if and optional questions

    def _shown(self, q: Question) -> np.ndarray:
        if q.show_if is None:
            return np.ones(self.n, dtype=bool)
        parent, options = q.show_if
        parent_q = self._question(parent)
        assert parent_q is not None
        wanted = [i for i, (o, _) in enumerate(parent_q.options) if o in options]
        if parent in self.singles:
            return np.isin(self.singles[parent], wanted)
        return self.multis[parent][:, wanted].any(axis=1)

    def _answering(self, q: Question, shown: np.ndarray) -> np.ndarray:
        return shown if q.required else shown & (self.rng.random(self.n) < OPTIONAL_ANSWERED)

    # choices

    def _weights(self, q: Question, table: Mapping[str, float] | None, others: float | None = None) -> np.ndarray:
        """Option shares from a table; options it leaves out weigh `others` (default: the mean weight)."""
        options = [o for o, _ in q.options]
        if not table:
            return np.full(len(options), 1 / len(options))
        known = [table[o] for o in options if o in table]
        fill = others if others is not None else (float(np.mean(known)) if known else 1.0)
        w = np.array([table.get(o, fill) for o in options], dtype=float)
        return w / w.sum() if w.sum() > 0 else np.full(len(options), 1 / len(options))

    def _single(self, q: Question, answering: np.ndarray) -> None:
        prior = self._weights(q, PRIORS.get(self.qn.id, {}).get(q.id))
        codes = _categorical(self.rng, np.broadcast_to(np.cumsum(prior), (self.n, len(prior))))
        parent, table = CONDITIONAL.get(self.qn.id, {}).get(q.id, (None, {}))
        if parent in self.singles:
            parent_q = self._question(parent)
            assert parent_q is not None
            for i, (o, _) in enumerate(parent_q.options):
                if o in table:
                    at = self.singles[parent] == i
                    cum = np.cumsum(self._weights(q, table[o], others=0.0))
                    codes[at] = _categorical(self.rng, np.broadcast_to(cum, (int(at.sum()), len(cum))))
        ordered = self._order(q)
        if ordered is not None:
            codes = self._by_latent(q, prior, codes, *ordered)
        codes = np.where(answering, codes, -1)
        self.singles[q.id] = codes
        self.columns[q.id] = _take([o for o, _ in q.options], codes)

    def _order(self, q: Question) -> tuple[list[int], float] | None:
        """The option indexes from worst to best and the latent's loading, for a single the latent drives."""
        index = {o: i for i, (o, _) in enumerate(q.options)}
        if q.id in self.scored:
            ranked = sorted(self.scored[q.id].scores, key=lambda s: s[1])
            return [index[o] for o, _ in ranked if o in index], DEFAULT_LOADING
        spec = ORDERED.get(self.qn.id, {}).get(q.id)
        if spec:
            return [index[o] for o in spec[0] if o in index], spec[1]
        return None

    def _by_latent(self, q: Question, prior: np.ndarray, codes: np.ndarray, order: list[int],
                   loading: float) -> np.ndarray:
        """Ordered options by an ordered probit on the latent, keeping their prior shares; other options (不清楚)
        keep the answers drawn for them."""
        inside = np.isin(codes, order)
        shares = prior[order] / prior[order].sum()
        cuts = np.array([NormalDist().inv_cdf(min(max(c, 1e-9), 1 - 1e-9)) for c in np.cumsum(shares)[:-1]])
        effect = self._world(q.id, (len(PROVINCES),), ITEM_PROVINCE_SD)[self.province]
        y = loading * self.latent() + effect + np.sqrt(1 - loading ** 2) * self.rng.standard_normal(self.n)
        return np.where(inside, np.asarray(order)[np.searchsorted(cuts, y)], codes)

    def _multi(self, q: Question, answering: np.ndarray) -> None:
        options = [o for o, _ in q.options]
        k = len(options)
        table = PRIORS.get(self.qn.id, {}).get(q.id, {})
        p = np.array([table.get(o, .3) for o in options])
        logit = np.log(p / (1 - p))[None, :] + self._world(q.id, (len(PROVINCES), k), CHOICE_PROVINCE_SD)[self.province]
        fall = TICKS_FALL.get(self.qn.id, {}).get(q.id, 0.0)
        if fall:
            logit = logit + fall * self.latent()[:, None]
        ticked = self.rng.random((self.n, k)) < 1 / (1 + np.exp(-logit))
        alone = [i for i, o in enumerate(options) if o == "none"] if q.min <= 1 else []
        if alone:  # "none of these" is ticked alone
            ticked[:, alone[0]] = False
            nothing = self.rng.random(self.n) < p[alone[0]]
        # keep between min and max: ticked options first, then others by their chance (Gumbel keys)
        key = ticked * 10.0 + np.log(p)[None, :] + self.rng.gumbel(size=(self.n, k))
        if alone:
            key[:, alone[0]] = -np.inf
        count = np.clip(ticked.sum(axis=1), q.min, min(q.max, k - len(alone)))
        rank = np.argsort(np.argsort(-key, axis=1), axis=1)
        chosen = rank < count[:, None]
        if alone:
            chosen[nothing] = False
            chosen[nothing, alone[0]] = True
        chosen &= answering[:, None]
        self.multis[q.id] = chosen
        self.columns[q.id] = _joined(options, chosen)

    # ratings

    def _rating(self, column: str, answering: np.ndarray) -> pa.Array:
        loading = LOADING.get(column, DEFAULT_LOADING)
        effect = self._world(column, (len(PROVINCES),), ITEM_PROVINCE_SD)[self.province]
        y = (LEVEL.get(column, .15) + effect + loading * self.latent()
             + np.sqrt(1 - loading ** 2) * self.rng.standard_normal(self.n))
        return pa.array(np.searchsorted(CUTS, y) + 1, mask=~answering, type=pa.int64())

    # free text

    def _text(self, q: Question, shown: np.ndarray) -> pa.Array:
        if q.type == "textarea":
            share = SUGGESTING.get(self.qn.id, .4)
            writing = shown & (self.rng.random(self.n) < 1 / (1 + np.exp(-(np.log(share / (1 - share))
                                                                             - .3 * self.latent()))))
            if q.required:
                writing = shown
            self.writing = writing
            return self._suggestions(writing, q.max_length)
        bank = OTHER_TEXT.get(q.id, ("其他",))
        answering = shown if q.required else shown & (self.rng.random(self.n) < OTHER_ANSWERED)
        picks = np.where(answering, self.rng.integers(0, len(bank), self.n), -1)
        return _take([b[: q.max_length] for b in bank], picks)

    def _suggestions(self, writing: np.ndarray, limit: int) -> pa.Array:
        """Suggestions of one to three phrases, the first on one of the respondent's priorities."""
        at = np.flatnonzero(writing)
        m = len(at)
        names = list(PHRASES)
        starts = np.cumsum([0] + [len(PHRASES[t]) for t in names])
        flat = [p for t in names for p in PHRASES[t]]
        topic_q = self._question(TOPIC_QUESTION)
        topics = np.full(m, names.index("general"))
        if topic_q is not None and topic_q.id in self.multis:
            known = [names.index(o) if o in PHRASES else -1 for o, _ in topic_q.options]
            chosen = self.multis[topic_q.id][at] & (np.asarray(known) >= 0)[None, :]
            pick = np.argmax(chosen * 10.0 + self.rng.random(chosen.shape), axis=1)
            topics = np.where(chosen.any(axis=1), np.asarray(known)[pick], topics)
        parts = []
        count = self.rng.choice(3, size=m, p=[.5, .35, .15]) + 1
        for k in range(3):
            if k:
                topics = self.rng.choice(len(names), size=m)
            phrase = starts[topics] + (self.rng.random(m) * (starts[topics + 1] - starts[topics])).astype(np.int64)
            parts.append(np.where(count > k, phrase, -1))
        province = np.asarray([_short(p) for p in PROVINCES])[self.province[at]]
        cities = np.asarray([c for p in PROVINCES for c in CITIES[p]])[self.city[at]]
        pieces = [_fill(flat, idx, province, cities) for idx in parts]
        body = pc.binary_join_element_wise(*pieces, "，", null_handling="skip")
        closing = _take(CLOSINGS, self.rng.integers(0, len(CLOSINGS), m))
        text = pc.utf8_slice_codeunits(pc.binary_join_element_wise(body, "。", closing, ""), 0, limit)
        full = np.full(self.n, -1)
        full[at] = np.arange(m)
        return text.take(pa.array(full, mask=full < 0))

    # the envelope

    def _meta(self, seed: int, start: int) -> None:
        n, rng = self.n, self.rng
        serial = pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + n)), pa.string()), 9, "0")
        day, ms = self.window.draw(rng, n)
        sponsor, channel, claimed = self._attribution()
        seconds = self._seconds()
        # the received time is when the form was sent: its start was `seconds` earlier, inside the window too
        self.columns.update({
            "id": pc.binary_join_element_wise(f"syn{seed}-{self.qn.id}-", serial, ""),
            "questionnaire": pa.array(np.full(n, self.qn.id)),
            "day": _take(self.window.days, day),
            "received": pc.strftime(pa.array(ms).cast(pa.timestamp("ms")), format="%Y-%m-%dT%H:%M:%SZ"),
            "sponsor": sponsor, "channel": channel, "claimed": claimed,
            "province": self.columns["region.province"],
            "valid": pa.array(np.ones(n, dtype=bool)),
            "reasons": pa.array(np.full(n, ""), type=pa.string()),
            "seconds": pa.array(seconds, type=pa.int64()),
        })

    def _attribution(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        n, rng, sp = self.n, self.rng, self.sponsors
        if not sp.slugs:
            nobody = pa.array(np.full(n, UNATTRIBUTED))
            return nobody, nobody, pa.array(np.full(n, ""))
        who = np.zeros(n, dtype=np.int64)
        for p in range(len(PROVINCES)):
            at = np.flatnonzero(self.province == p)
            probs = sp.by_province.get(p, sp.national)
            who[at] = rng.choice(len(sp.slugs), size=len(at), p=probs)
        cum = sp.channel_p(self.qn.id == "pro")[who]
        how = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(sp.channels) - 1)
        sponsor = pa.array(sp.slugs).take(pa.array(who))
        channel = pa.array(sp.channels).take(pa.array(how))
        lost = rng.random(n) < UNATTRIBUTED_SHARE
        renamed = np.array([slug in sp.former for slug in sp.slugs])[who] & (rng.random(n) < FORMER_SLUG_SHARE)
        former = pa.array([sp.former.get(s, s) for s in sp.slugs]).take(pa.array(who))
        claimed = pc.if_else(pa.array(renamed), pc.binary_join_element_wise(former, channel, "/"), "")
        stale = _take(STALE_LINKS, rng.integers(0, len(STALE_LINKS), n))
        claimed = pc.if_else(pa.array(lost), stale, claimed)
        sponsor = pc.if_else(pa.array(lost), UNATTRIBUTED, sponsor)
        channel = pc.if_else(pa.array(lost), UNATTRIBUTED, channel)
        return sponsor, channel, claimed

    def _seconds(self) -> np.ndarray:
        extra = EXTRA_SECONDS.get(self.qn.id, 360.0) * np.exp(SECONDS_SIGMA * self.rng.standard_normal(self.n))
        age = self._question("age")
        if age is not None and age.id in self.singles:
            pace = np.array([AGE_PACE.get(o, 1.0) for o, _ in age.options] + [1.0])
            extra *= pace[self.singles[age.id]]
        if self.writing is not None:
            extra += self.writing * WRITING_SECONDS * np.exp(SECONDS_SIGMA * self.rng.standard_normal(self.n))
        return np.minimum(self.fastest + 1 + extra.astype(np.int64), LONGEST)


# ---- columns -------------------------------------------------------------------------------------------------------

def _categorical(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One draw per row from the row's cumulative shares."""
    u = rng.random(cum.shape[0])[:, None]
    return np.minimum((u > cum).sum(axis=1), cum.shape[1] - 1)


def _take(values: list[str] | tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """values[code] per row; null where the code is negative."""
    codes = np.asarray(codes)
    return pa.array(list(values), type=pa.string()).take(pa.array(codes, mask=codes < 0))


def _joined(options: list[str], chosen: np.ndarray) -> pa.Array:
    """Chosen option ids joined by ';' in questionnaire order (as the export writes them), null when none."""
    bits = chosen.astype(np.uint64) << np.arange(chosen.shape[1], dtype=np.uint64)[None, :]
    masks, codes = np.unique(bits.sum(axis=1), return_inverse=True)
    text = [";".join(o for i, o in enumerate(options) if int(m) >> i & 1) for m in masks]
    codes = np.where(masks[codes] == 0, -1, codes)
    return _take(text, codes)


_PLACE = re.compile(r"\{(province|city)\}")


def _fill(phrases: list[str], idx: np.ndarray, province: np.ndarray, city: np.ndarray) -> pa.Array:
    """Each row's phrase with its place put in; null where idx is negative."""
    split = [(_PLACE.split(p) + ["", ""])[:3] for p in phrases]
    before = _take([s[0] for s in split], idx)
    slot = np.array([{"province": 1, "city": 2}.get(s[1], 0) for s in split])[np.maximum(idx, 0)]
    place = np.where(slot == 1, province, np.where(slot == 2, city, ""))
    after = _take([s[2] for s in split], idx)
    return pc.binary_join_element_wise(before, pa.array(place, type=pa.string()), after, "")


def _short(province: str) -> str:
    """广东省 -> 广东, 广西壮族自治区 -> 广西: how people write a province in a sentence."""
    return re.sub(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|省|市)$", "", province)


# ---- command line ---------------------------------------------------------------------------------------------------

def add_parser(sub: argparse._SubParsersAction) -> None:
    """`synth --out DIR --size N [--seed S] [--share-pro F]`: synthetic valid submissions as the export's Parquet,
    from the site's questionnaires.json, sponsors.json and rules.json (--site)."""
    p = sub.add_parser("synth", help="write synthetic valid submissions as the export's Parquet (tests, benchmarks)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, required=True, help="rows in all (e.g. 3000000, the 2021 campaign's size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--share-pro", type=float, default=0.1, help="share answering the practitioners' questionnaire")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    site = args.site
    survey = questionnaire.load(site / "questionnaires.json")
    cat = catalogs.load(site / "sponsors.json")
    fastest = rules.load(site / "rules.json").min_seconds if (site / "rules.json").exists() else None
    began = time.perf_counter()
    written = generate(args.out, survey, cat, args.size, args.seed, args.share_pro, fastest)
    print(f"{args.out}: " + ", ".join(f"{qid} {n} rows" for qid, n in written.items())
          + f" in {time.perf_counter() - began:.1f} s")
    return 0
