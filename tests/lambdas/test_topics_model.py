"""Topic modules in the questionnaire file: the 2025 file's shape, the forms built from it, the errors a bad edit
gets (each naming its place), and how a topic's form validates answers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lambdas.survey import questionnaire
from lambdas.survey.questionnaire import Invalid, QuestionnaireError
from tests.lambdas.answers import valid_answers

SOURCE_2025 = questionnaire.SOURCE.with_name("questionnaires-2025.yaml")


@pytest.fixture(scope="module")
def survey2025() -> questionnaire.Survey:
    return questionnaire.load(SOURCE_2025)


# ---- the 2025 file ------------------------------------------------------------------------------------------------

def test_the_2025_file_has_a_core_and_10_public_and_3_practitioner_topics(survey2025):
    assert list(survey2025.questionnaires) == ["public", "pro"]
    public, pro = survey2025.questionnaires["public"], survey2025.questionnaires["pro"]
    assert len(public.modules.topics) == 10 and len(pro.modules.topics) == 3
    assert {t.title for t in public.modules.topics} >= {"智能社会发展与治理挑战", "中国网民权益保护"}
    assert {t.title for t in pro.modules.topics} == {"关键信息基础设施安全", "网络安全人才与产业", "数据安全合规"}
    for base in (public, pro):
        # The core is short (the form page of core + one topic stays small) and holds the region and the index
        assert base.questions[0].type == "region" and len(base.questions) <= 15
        assert base.index is not None
        assert base.modules.assignment in questionnaire.ASSIGNMENTS
        assert 1 <= base.modules.offer <= len(base.modules.topics)
        for topic in base.modules.topics:
            questions = [q for s in topic.sections for q in s.questions]
            assert 3 <= len(questions) <= 6 and topic.target >= 1 and topic.intro
            assert len({q.type for q in questions}) >= 2  # mixed types
            assert "region" not in {q.type for q in questions}
    assert any(q.show_if for t in public.modules.topics for s in t.sections for q in s.questions)


def test_each_topic_is_a_form_of_the_core_then_the_topic(survey2025):
    public = survey2025.questionnaires["public"]
    assert list(survey2025.forms) == [f"public.{t.id}" for t in public.modules.topics] + [
        f"pro.{t.id}" for t in survey2025.questionnaires["pro"].modules.topics]
    ai = survey2025.forms["public.ai"]
    topic = public.modules.topic("ai")
    assert ai.id == questionnaire.form_id("public", "ai") == "public.ai"
    assert (ai.base, ai.base_id, ai.topic) == ("public", "public", topic)
    assert ai.sections == public.sections + topic.sections
    assert [q.id for q in ai.questions] == [q.id for q in public.questions] + [
        q.id for s in topic.sections for q in s.questions]
    assert ai.index is public.index and ai.modules is None
    assert ai.title == "网民网络安全感满意度调查（公众网民版·智能社会发展与治理挑战）"
    assert public.base_id == "public" and public.topic is None
    assert survey2025.find("public") is public and survey2025.find("public.ai") is ai
    with pytest.raises(KeyError):
        survey2025.find("public.nope")


def test_form_ids_name_their_questionnaire_first():
    assert questionnaire.form_id("pro", "cii") == "pro.cii"
    assert questionnaire.base_of("pro.cii") == "pro" and questionnaire.base_of("public") == "public"


def test_a_file_without_modules_is_its_own_forms(survey):
    assert survey.forms == survey.questionnaires
    assert all(survey.forms[q] is qn and qn.base_id == q and qn.modules is None
               for q, qn in survey.questionnaires.items())


# ---- mistakes -----------------------------------------------------------------------------------------------------

def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questionnaires.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
consent: 匿名调查。
questionnaires:
  public:
    title: 标题（公众版）
    audience: 公众
    intro: 说明
    sections:
      - title: 基本情况
        questions:
          - {id: region, type: region, text: 省份和城市}
          - id: job
            type: single
            text: 职业
            options: {student: 学生, worker: 职员}
    modules:
      assignment: assign_choice
      topics:
        - id: fraud
          title: 网络诈骗防治
          intro: 诈骗
          target: 100
          sections:
            - title: 诈骗
              questions:
                - id: victim
                  type: single
                  text: 是否受骗
                  options: {been: 是, never: 否}
                - id: loss
                  type: rating
                  text: 损失
                  low: 小
                  high: 大
                  show_if: {question: victim, any: [been]}
        - id: school
          title: 未成年人网络保护
          intro: 学生
          target: 50
          sections:
            - title: 学校
              questions:
                - id: campus
                  type: text
                  text: 学校
                  max_length: 20
                  show_if: {question: job, any: [student]}
  pro:
    title: 从业人员
    audience: 从业人员
    intro: 说明
    sections:
      - title: 基本情况
        questions:
          - {id: region, type: region, text: 省份和城市}
"""
FRAUD = "questionnaires.public.modules.topics[0] (id fraud)"
SCHOOL = "questionnaires.public.modules.topics[1] (id school)"


def test_a_good_file_with_modules_loads(tmp_path):
    survey = questionnaire.load(_write(tmp_path, GOOD))
    modules = survey.questionnaires["public"].modules
    assert (modules.assignment, modules.offer) == ("assign_choice", 2)  # the default 3, capped at the topics
    assert [t.target for t in modules.topics] == [100, 50]
    assert list(survey.forms) == ["public.fraud", "public.school", "pro"]
    # a topic's show-if may name the core: the campus question follows the core's job question
    assert survey.forms["public.school"].questions[-1].show_if == ("job", ("student",))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("- id: school", "- id: School", "questionnaires.public.modules.topics[1] (id School).id: lowercase letters"),
    ("- id: school", "- id: fraud", "questionnaires.public.modules.topics[1].id: 'fraud' is used twice"),
    ("- id: school", "- id: pro", "questionnaires.public.modules.topics[1] (id pro).id: 'pro' is a questionnaire's id"),
    ("- id: campus", "- id: job", f"{SCHOOL}.sections[0].questions[0] (id job).id: 'job' is used twice"),
    ("- id: loss", "- id: victim", f"{FRAUD}.sections[0].questions[1] (id victim).id: 'victim' is used twice"),
    ("question: job", "question: victim",
     f"{SCHOOL}.sections[0].questions[0] (id campus).show_if.question: must name an earlier single"),
    ("- id: campus\n                  type: text", "- id: region\n                  type: region",
     f"{SCHOOL}.sections[0].questions[0].type: a topic may not ask the region"),
    ("target: 50", "target: 0", f"{SCHOOL}.target: a whole number of at least 1"),
    ("target: 50", "target: many", f"{SCHOOL}.target: a whole number of at least 1"),
    ("target: 50", "target: true", f"{SCHOOL}.target: a whole number of at least 1"),
    ("          target: 50\n", "", f"{SCHOOL}.target: a whole number of at least 1"),
    ("assignment: assign_choice", "assignment: random",
     "questionnaires.public.modules.assignment: one of choose, assign, assign_choice"),
    ("assignment: assign_choice", "assignment: assign_choice\n      offer: 3",
     "questionnaires.public.modules.offer: a whole number from 1 to 2"),
    ("assignment: assign_choice", "assignment: assign_choice\n      offer: 0",
     "questionnaires.public.modules.offer: a whole number from 1 to 2"),
    ("assignment: assign_choice", "assignment: assign_choice\n      shuffle: true",
     "questionnaires.public.modules: unknown key 'shuffle'"),
    ("title: 未成年人网络保护", "title: 未成年人网络保护\n          weight: 2", f"{SCHOOL}: unknown key 'weight'"),
    ("title: 未成年人网络保护", "title: ''", f"{SCHOOL}.title: required text"),
    ("intro: 学生", "intro: [学生]", f"{SCHOOL}.intro: text"),
    ("          sections:\n            - title: 学校", "          parts:\n            - title: 学校",
     f"{SCHOOL}.sections: a list of sections"),
    ("type: rating\n                  text: 损失", "type: dropdown\n                  text: 损失",
     f"{FRAUD}.sections[0].questions[1] (id loss).type: must be one of"),
])
def test_each_module_mistake_is_reported_with_its_place(tmp_path, old, new, expected):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(QuestionnaireError) as err:
        questionnaire.load(path)
    assert str(path) in str(err.value) and expected in str(err.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    modules:\n      assignment", "    modules: [fraud]\n    old:\n      assignment",
     "questionnaires.public.modules: a mapping with assignment, offer and topics"),
    ("      topics:\n        - id: fraud", "      topics: []\n      unused:\n        - id: fraud",
     "questionnaires.public.modules.topics: a list of topics"),
])
def test_a_malformed_modules_block_is_reported(tmp_path, old, new, expected):
    assert old in GOOD
    with pytest.raises(QuestionnaireError) as err:
        questionnaire.load(_write(tmp_path, GOOD.replace(old, new, 1)))
    assert expected in str(err.value)


# ---- validating a topic's form ------------------------------------------------------------------------------------

def test_a_topic_form_takes_the_core_and_its_topic_answers(survey2025):
    form = survey2025.forms["public.ai"]
    answers = valid_answers(form, random.Random(4))
    assert {"region", "overall", "ai_use", "ai_governance"} <= set(answers)
    assert form.check(answers) == answers


def test_another_topics_answer_is_refused_by_name(survey2025):
    answers = valid_answers(survey2025.forms["public.ai"], random.Random(4))
    with pytest.raises(Invalid) as err:
        survey2025.forms["public.ai"].check({**answers, "rights_ease": 3})
    assert [e.as_dict() for e in err.value.errors] == [{"field": "answers.rights_ease", "message": "问卷中没有这道题"}]
    # and the core alone knows no topic's questions
    with pytest.raises(Invalid):
        survey2025.questionnaires["public"].check(answers)


def test_missing_topic_answers_are_refused(survey2025):
    answers = valid_answers(survey2025.forms["public.ai"], random.Random(4))
    core_only = {k: v for k, v in answers.items() if k in {q.id for q in survey2025.questionnaires["public"].questions}}
    with pytest.raises(Invalid) as err:
        survey2025.forms["public.ai"].check(core_only)
    assert {e.field for e in err.value.errors} == {"answers.ai_use", "answers.ai_risks", "answers.ai_labeling",
                                                   "answers.ai_governance"}  # ai_suggestion is optional
    assert {e.message for e in err.value.errors} == {"此题为必答题"}


def test_a_topic_question_shown_by_a_core_answer(survey2025):
    form = survey2025.forms["pro.compliance"]
    answers = valid_answers(form, random.Random(2))
    answers["company_type"] = "government"
    answers["cross_border"] = "assessed"  # filled in before the core answer changed: dropped, as in any form
    assert "cross_border" not in form.check(answers)
    answers["company_type"] = "internet"
    del answers["cross_border"]
    with pytest.raises(Invalid) as err:
        form.check(answers)
    assert [e.field for e in err.value.errors] == ["answers.cross_border"]


def test_the_published_json_copy_gives_the_same_forms(survey2025, tmp_path):
    path = tmp_path / "questionnaires.json"
    path.write_text(questionnaire.dumps(questionnaire.read(SOURCE_2025)), encoding="utf-8")
    again = questionnaire.load(path)
    assert again.questionnaires == survey2025.questionnaires
    assert list(again.forms) == list(survey2025.forms) and again.forms["pro.cii"] == survey2025.forms["pro.cii"]
