"""The questionnaire file: its content, the errors a bad edit gets, and the form-post mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdas.survey import questionnaire
from lambdas.survey.questionnaire import QuestionnaireError


def test_the_two_questionnaires_use_every_type_and_show_if(survey):
    assert list(survey.questionnaires) == ["public", "pro"]
    for qn in survey.questionnaires.values():
        assert 20 <= len(qn.questions) <= 30
        assert {q.type for q in qn.questions} == set(questionnaire.TYPES)
        assert any(q.show_if for q in qn.questions)
        assert qn.questions[0].type == "region"
    assert "IP" in survey.consent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questionnaires.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
consent: 匿名调查。
questionnaires:
  public:
    title: 标题
    audience: 公众
    intro: 说明
    sections:
      - title: 基本情况
        questions:
          - {id: region, type: region, text: 省份和城市}
          - id: victim
            type: single
            text: 是否受骗
            options: {been: 是, never: 否}
          - id: loss
            type: single
            text: 损失
            show_if: {question: victim, any: [been]}
            options: {small: 少, large: 多}
"""


def test_a_good_file_loads(tmp_path):
    survey = questionnaire.load(_write(tmp_path, GOOD))
    [q1, q2, q3] = survey.questionnaires["public"].questions
    assert q3.show_if == ("victim", ("been",))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("options: {been: 是, never: 否}", "options: {yes: 是, no: 否}", "(id victim)"),
    ("options: {been: 是, never: 否}", "options: {yes: 是, no: 否}", "YAML reads yes/no"),
    ("any: [been]", "any: [maybe]", "wrong: ['maybe']"),
    ("question: victim", "question: loss", "earlier single or multi"),
    ("type: single\n            text: 损失", "type: dropdown\n            text: 损失", "must be one of"),
    ("intro: 说明", "intro: 说明\n    min_seconds: 30", "moved to rules.yaml (limits.min_seconds.public)"),
    ("- {id: region, type: region, text: 省份和城市}", "- {id: where, type: text, text: 省份, max_length: 5}",
     "exactly one question of type 'region'"),
    ("id: loss", "id: victim", "used twice"),
    ("text: 损失", "text: 损失\n            colour: red", "unknown key 'colour'"),
])
def test_each_mistake_is_reported_with_its_place_and_fix(tmp_path, old, new, expected):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(QuestionnaireError) as err:
        questionnaire.load(path)
    message = str(err.value)
    assert str(path) in message and expected in message
    assert "questionnaires.public.sections[0].questions[" in message or "questionnaires.public" in message


def test_broken_yaml_names_the_file(tmp_path):
    with pytest.raises(QuestionnaireError, match="questionnaires.yaml: cannot read"):
        questionnaire.load(_write(tmp_path, "consent: [unclosed"))


def test_form_fields_map_back_to_the_answers_check_takes(survey):
    qn = survey.questionnaires["public"]
    by_type = {q.type: q for q in reversed(qn.questions) if not q.show_if}
    fields = {
        "region.province": ["浙江省"], "region.city": ["杭州市"],
        by_type["multi"].id: [by_type["multi"].options[0][0], ""],
        by_type["rating"].id: ["4"],
        f"{by_type['matrix'].id}.{by_type['matrix'].rows[0][0]}": ["5"],
        by_type["textarea"].id: ["建议"],
        "stray": ["x"],
    }
    answers, unknown = qn.from_form(fields)
    assert answers["region"] == {"province": "浙江省", "city": "杭州市"}
    assert answers[by_type["multi"].id] == [by_type["multi"].options[0][0]]
    assert answers[by_type["rating"].id] == 4
    assert answers[by_type["matrix"].id] == {by_type["matrix"].rows[0][0]: 5}
    assert unknown == ["stray"]


def test_the_check_command_validates_the_questionnaires_too(tmp_path, capsys):
    from generator.__main__ import main
    from tests.conftest import ROOT

    good = _write(tmp_path, GOOD)
    assert main(["check", str(ROOT / "sponsors.yaml"), "--site", str(tmp_path), "--questionnaires", str(good)]) == 0
    assert "public 3 questions" in capsys.readouterr().out
    good.write_text(GOOD.replace("intro: 说明", "intro: 说明\n    min_seconds: -1"), encoding="utf-8")
    assert main(["check", str(ROOT / "sponsors.yaml"), "--site", str(tmp_path), "--questionnaires", str(good)]) == 1
    assert "questionnaires.public.min_seconds" in capsys.readouterr().err
    # A questionnaire the rules give no fastest believable time is refused too, naming the rule to add.
    good.write_text(GOOD.replace("  public:", "  quick:"), encoding="utf-8")
    assert main(["check", str(ROOT / "sponsors.yaml"), "--site", str(tmp_path), "--questionnaires", str(good)]) == 1
    assert "limits.min_seconds.quick: missing" in capsys.readouterr().err


def test_the_models_repr_is_the_same_in_every_process():
    """The build keys its reusable parts on this repr: set order, which changes per process, must not show in it."""
    import os
    import subprocess
    import sys

    code = "from lambdas.survey import questionnaire; print(repr(questionnaire.load()))"
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outputs) == 1
