"""Every kind of knowledge error names its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.loader import check_knowledge, load_knowledge
from bot.knowledge.problems import KnowledgeError


def _errors(root: Path) -> list[str]:
    return [str(p) for p in check_knowledge(root).errors]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_loads_with_warnings_only(kb_copy: Path) -> None:
    result = check_knowledge(kb_copy)
    assert result.errors == []
    assert result.knowledge is not None and len(result.knowledge.services) == 9
    assert any("has no phone" in str(w) for w in result.warnings)


def test_yaml_syntax_error_names_file_and_line(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/services/kuruma-isu.yaml", "category: idou", "category: [idou")
    [err] = _errors(kb_copy)
    assert err.startswith("knowledge/minato/services/kuruma-isu.yaml:")
    assert "YAML syntax error" in err


def test_unknown_field_is_an_error_with_its_line(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/services/kuruma-isu.yaml", "category: idou", "categroy: idou")
    errs = _errors(kb_copy)
    assert "knowledge/minato/services/kuruma-isu.yaml:4: categroy: unknown field" in "\n".join(errs)
    assert any("missing required field 'category'" in e for e in errs)


def test_thin_entries_are_flagged_for_staff(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/services/salon.yaml", "  - さろんにさんかしたい\n", "")
    warnings = [str(w) for w in check_knowledge(kb_copy).warnings]
    assert any("salon.yaml" in w and "examples: fewer than 3 examples" in w for w in warnings)


def test_wrong_type_is_an_error(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/services/kuruma-isu.yaml", "aliases: [車椅子貸出, くるまいす, 車イス]", "aliases: 車イス")
    assert any(":3: aliases: must be a list" in e for e in _errors(kb_copy))


def test_number_where_text_is_expected_hints_at_quotes(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/services/kyushoku.yaml", "fee: 1食400円", "fee: 400")
    assert any("fee: must be text or empty, not int (put quotes around it)" in e for e in _errors(kb_copy))


def test_other_office_topic_without_message_is_an_error(kb_copy: Path) -> None:
    (kb_copy / "_common/other_offices.yaml").write_text("topics:\n  - topic: 選挙\n    terms: [選挙]\n", encoding="utf-8")
    assert any("other_offices.yaml:2" in e and "message" in e for e in _errors(kb_copy))


def test_duplicate_id_and_foreign_id(kb_copy: Path) -> None:
    dup = kb_copy / "minato/services/kuruma-isu2.yaml"
    dup.write_text((kb_copy / "minato/services/kuruma-isu.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    errs = "\n".join(_errors(kb_copy))
    assert "kuruma-isu2.yaml:1: id: id slug 'kuruma-isu' must equal the file name 'kuruma-isu2'" in errs
    assert "duplicate id 'minato/kuruma-isu'" in errs
    _edit(dup, "id: minato/kuruma-isu", "id: yama/kuruma-isu2")
    assert "id must start with 'minato/'" in "\n".join(_errors(kb_copy))


def test_unknown_related_department_and_category(kb_copy: Path) -> None:
    f = kb_copy / "minato/services/kyushoku.yaml"
    _edit(f, "related: [minato/kuruma-isu]", "related: [minato/nothing, yama/foodbank]")
    _edit(f, "department: chiiki", "department: nowhere")
    errs = "\n".join(_errors(kb_copy))
    assert "kyushoku.yaml:11: contact.department: unknown department 'nowhere' of minato" in errs
    g = kb_copy / "minato/services/salon.yaml"
    _edit(g, "category: chiiki", "category: nothing")
    assert "salon.yaml:4: category: unknown category 'nothing'" in "\n".join(_errors(kb_copy))
    _edit(f, "department: nowhere", "department: chiiki")
    errs = "\n".join(_errors(kb_copy))
    assert "kyushoku.yaml:16: related: unknown id: 'minato/nothing'" in errs
    assert "kyushoku.yaml:16: related: belongs to another council: 'yama/foodbank'" in errs


def test_duplicate_key_and_council_id_mismatch(kb_copy: Path) -> None:
    _edit(kb_copy / "yama/council.yaml", "id: yama", "id: other\nid: yama2")
    errs = "\n".join(_errors(kb_copy))
    assert "yama/council.yaml:2: id: duplicate key" in errs
    assert "council id 'yama2' must equal its folder name 'yama'" in errs


def test_load_knowledge_raises_with_every_error(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/services/kuruma-isu.yaml", "category: idou", "category: nothing")
    _edit(kb_copy / "minato/services/salon.yaml", "audience: resident", "audience: everyone")
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(kb_copy)
    assert len(exc.value.problems) == 2
    assert "salon.yaml:5: audience: must be one of resident, staff" in str(exc.value)


def test_bundled_knowledge_has_no_errors() -> None:
    result = check_knowledge()
    assert result.errors == [], "\n".join(map(str, result.errors[:10]))
    k = result.knowledge
    assert k is not None and set(k.councils) == {"tomakomai", "ichinoseki", "kiyose", "komoro", "mimasaka"}
    # the seeds give no phone numbers: every window is flagged once, in council.yaml, with its users counted
    windows = [w for w in result.warnings if w.message.startswith("window '")]
    assert windows and all(w.file.endswith("council.yaml") and "has no phone" in w.message for w in windows)
    assert len(windows) == sum(len(c.departments) for c in k.councils.values())
    referring = sum(int(w.message.rsplit("(", 1)[1].split()[0]) for w in windows)
    assert referring == len(k.services)


def test_not_offered_term_that_names_an_own_service_is_flagged(kb_copy: Path) -> None:
    _edit(kb_copy / "minato/council.yaml", "not_offered:\n", "not_offered:\n  - topic: 車いす\n    terms: [車椅子貸出]\n")
    warnings = [str(w) for w in check_knowledge(kb_copy).warnings]
    assert any("council.yaml" in w and "車椅子貸出" in w and "minato/kuruma-isu" in w for w in warnings), warnings


def test_out_of_scope_questions_load_and_a_bad_one_is_named_with_its_line(kb_copy: Path) -> None:
    path = kb_copy / "_common/out_of_scope.yaml"
    path.write_text("writer: t\nquestions:\n  - {text: 明日の天気}\n  - {text: 明日の天気}\n  - {txt: 駅はどこ}\n",
                    encoding="utf-8")
    assert any("out_of_scope.yaml:5" in e and "txt" in e for e in _errors(kb_copy))
    path.write_text("questions:\n  - {text: 明日の天気}\n  - {text: 明日の天気}\n  - {text: 駅はどこ, topic: x}\n",
                    encoding="utf-8")
    assert load_knowledge(kb_copy).out_of_scope == ("明日の天気", "駅はどこ")


def test_a_not_offered_topic_carries_its_examples_into_its_entry(kb_copy: Path) -> None:
    from bot.knowledge.model import Service

    _edit(kb_copy / "minato/council.yaml", "    terms: [かぎ預かり, 鍵を預ける, 合鍵を預け]\n",
          "    terms: [かぎ預かり, 鍵を預ける, 合鍵を預け]\n    examples: [留守の間の鍵を社協で預かってほしい]\n")
    council = load_knowledge(kb_copy).councils["minato"]
    assert Service.gap(council, 0, council.not_offered[0]).examples == ("留守の間の鍵を社協で預かってほしい",)


def test_a_reload_validates_only_the_files_that_changed(kb_copy: Path, monkeypatch) -> None:
    from bot.knowledge import loader, schema

    check_knowledge(kb_copy)
    checked: list[str] = []
    real = schema.validate
    monkeypatch.setattr(loader.schema, "validate", lambda doc, shape: checked.append(doc.file) or real(doc, shape))
    _edit(kb_copy / "minato/services/kuruma-isu.yaml", "category: idou", "category: idou  # edited")
    result = check_knowledge(kb_copy)
    assert checked == ["knowledge/minato/services/kuruma-isu.yaml"]
    assert result.errors == []
    _edit(kb_copy / "minato/services/kuruma-isu.yaml", "category: idou  # edited", "categroy: idou")
    assert any("categroy: unknown field" in str(e) for e in check_knowledge(kb_copy).errors)
    assert any("categroy: unknown field" in str(e) for e in check_knowledge(kb_copy).errors)  # unchanged: kept


_VALUE = st.sampled_from(["", " ", "死にたい", "ok", "ok", "suicide", "Bad Id", 0, None, ["a"], "あ" * 61, "い" * 601])


@settings(max_examples=500, deadline=None)
@given(items=st.lists(st.dictionaries(st.sampled_from(["text", "kind", "topic", "voice", "style", "txt"]), _VALUE),
                      max_size=4),
       words=st.lists(_VALUE, max_size=4))
def test_the_fast_path_of_validation_says_what_the_full_check_says(items: list, words: list) -> None:
    from bot.knowledge import schema
    from bot.knowledge.yamlfile import YamlDoc

    cases = [({"writer": "w", "danger": items}, schema.CRISIS),
             ({"questions": items}, schema.OUT_OF_SCOPE),
             ({"topics": [{"topic": "t", "terms": words, "message": "m"}]}, schema.OTHER_OFFICES),
             ({"groups": [words, words[:1]], "ignore": words}, schema.SYNONYMS),  # minItems
             ({"id": "a", "title": (words or ["t"])[0], "summary": (words or ["s"])[-1], "examples": words},
              schema.SERVICE)]  # maxLength
    for data, shape in cases:
        doc = YamlDoc("f.yaml", data)
        fast = schema.validate(doc, shape)
        real = schema._flat_ok
        try:
            schema._flat_ok = lambda value, s: False
            slow = schema.validate(doc, shape)
        finally:
            schema._flat_ok = real
        assert fast == slow


def test_a_safety_rule_without_a_message_or_lines_says_its_kinds(kb_copy: Path) -> None:
    k = load_knowledge(kb_copy)
    rule = next(r for r in k.safety if r.id == "no-food-today")
    assert rule.message == k.danger_kinds["no-food"].message
    assert rule.hotlines == k.danger_kinds["no-food"].hotlines


def test_a_safety_rule_with_no_message_of_its_own_or_its_kinds_is_named(kb_copy: Path) -> None:
    safety = kb_copy / "_common" / "safety.yaml"
    _edit(safety, "  - id: no-food-today\n    kind: no-food\n", "  - id: no-food-today\n    kind: no-such-kind\n")
    errors = _errors(kb_copy)
    assert any("safety.yaml" in e and "unknown kind 'no-such-kind'" in e for e in errors), errors
    assert any("safety.yaml" in e and "no message" in e for e in errors), errors


def test_a_misspelt_part_of_what_asks_is_named_with_its_line(kb_copy: Path) -> None:
    safety = kb_copy / "_common" / "safety.yaml"
    _edit(safety, "asking:\n  ends:", "asking:\n  endings:")
    line = safety.read_text(encoding="utf-8").splitlines().index("  endings: [か, かね, \"?\", ください, 下さい, ほしい, 欲しい,"
                                                                 " ほしいです, 欲しいです]") + 1
    errors = _errors(kb_copy)
    assert any("safety.yaml" in e and f":{line}" in e and "endings" in e for e in errors), errors
