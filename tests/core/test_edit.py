"""Staff edits as round trips, checked whole before they land, committed with the staff member's name."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.knowledge.commit import commit_edit
from bot.knowledge.edit import EditRejected, add_wording, apply, new_draft, publish, set_window
from bot.knowledge.loader import check_knowledge, default_root

FIXTURE = Path(__file__).parents[1] / "fixtures" / "knowledge"


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "knowledge")
    return tmp_path / "knowledge"


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_adding_a_word_to_any_bundled_service_changes_exactly_one_line() -> None:
    root = default_root()
    k = check_knowledge(root).knowledge
    assert k is not None
    for sid in sorted(k.services)[::7]:  # every 7th service: flow and block lists, comments, folded text
        before = (root / f"{sid.replace('/', '/services/')}.yaml").read_text(encoding="utf-8")
        for field in ("aliases", "examples"):
            after = add_wording(root, sid, field=field, text="テスト用の言い方").text
            old, new = before.splitlines(), after.splitlines()
            if len(new) == len(old):  # a flow list: the one line grew
                changed = [(a, b) for a, b in zip(old, new) if a != b]
                assert len(changed) == 1 and changed[0][1].startswith(f"{field}: [") and "テスト用の言い方" in changed[0][1]
            else:
                assert len(new) == len(old) + 1 and set(old) <= set(new), sid


def test_apply_writes_only_when_the_whole_knowledge_stays_valid(kb: Path) -> None:
    edit = add_wording(kb, "minato/salon", field="examples", text="お茶飲み会はありますか")
    result = apply(kb, [edit])
    assert result.errors == [] and "お茶飲み会はありますか" in (kb / "minato/services/salon.yaml").read_text("utf-8")
    # The same wording twice is refused before anything is checked or written.
    with pytest.raises(EditRejected, match="already"):
        add_wording(kb, "minato/salon", field="examples", text="お茶飲み会はありますか")


def test_a_broken_knowledge_refuses_the_edit_and_writes_nothing(kb: Path) -> None:
    (kb / "yama/services/foodbank.yaml").write_text("id: yama/foodbank\ntitle: [broken\n", encoding="utf-8")
    before = snapshot(kb)
    edit = add_wording(kb, "minato/salon", field="aliases", text="茶話会")
    with pytest.raises(EditRejected) as exc:
        apply(kb, [edit])
    assert any(p.file == "knowledge/yama/services/foodbank.yaml" for p in exc.value.problems)
    assert snapshot(kb) == before


def test_window_values_are_validated_and_set_in_place(kb: Path) -> None:
    with pytest.raises(EditRejected) as exc:
        set_window(kb, "minato", "chiiki", {"url": "javascript:alert(1)", "phone": "0120-1"})
    assert {p.field for p in exc.value.problems} == {"departments.1.url", "departments.1.phone"}
    edit = set_window(kb, "minato", "window", {"phone": "0123-45-6789", "hours": "", "url": "https://example.jp/"})
    apply(kb, [edit])
    k = check_knowledge(kb).knowledge
    assert k.councils["minato"].window.phone == "0123-45-6789" and k.councils["minato"].window.hours is None
    with pytest.raises(EditRejected, match="unknown department"):
        set_window(kb, "minato", "nowhere", {"phone": "0123-45-6789"})
    with pytest.raises(EditRejected, match="not a service id"):
        add_wording(kb, "../etc/passwd", field="aliases", text="x")


def test_a_draft_loads_for_staff_only_and_publishing_makes_it_live(kb: Path) -> None:
    category = check_knowledge(kb).knowledge.services["minato/salon"].category
    edit = new_draft(kb, "minato", title="将棋教室", category=category, department="chiiki",
                     summary="将棋を楽しむ教室です。", example="将棋をしたい")
    apply(kb, [edit])
    k = check_knowledge(kb).knowledge
    assert "minato/draft-1" in k.drafts and "minato/draft-1" not in k.services
    assert not [p for p in check_knowledge(kb).warnings if "draft-1" in p.file]  # no nagging about a draft's words
    apply(kb, [publish(kb, "minato/draft-1")])
    k = check_knowledge(kb).knowledge
    assert "minato/draft-1" in k.services and not k.drafts
    with pytest.raises(EditRejected, match="not a draft"):
        publish(kb, "minato/draft-1")


def test_a_draft_with_an_unknown_category_is_refused(kb: Path) -> None:
    edit = new_draft(kb, "minato", title="x", category="nope", department="chiiki", summary="説明")
    with pytest.raises(EditRejected, match="unknown category"):
        apply(kb, [edit])
    assert not (kb / "minato/services/draft-1.yaml").exists()


def test_commit_records_the_staff_member_as_author(kb: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(kb.parent), *args], check=True, capture_output=True, text=True).stdout

    edit = add_wording(kb, "minato/salon", field="aliases", text="茶話会")
    assert commit_edit(kb, [edit.path], author="山田", author_id="U1", message=edit.summary) is None  # no repo yet
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "start")
    apply(kb, [edit])
    sha = commit_edit(kb, [edit.path], author="山田 <evil>", author_id="U1", message=edit.summary)
    assert sha and git("log", "-1", "--format=%H|%an|%ae|%cn|%s").strip() == \
        f"{sha}|山田 evil|U1@slack.invalid|Madoguchi|minato/salon: aliases += 茶話会"
    assert git("status", "--porcelain") == ""
