"""Faithful to the documents: every quoted piece is the document's own words, every number in
`workflows/` carries its basis, and no page shows a seed file's name.

The policy texts live in ../shared/seeds/ beside this repository; without them the quote
checks skip with their reason (except under CI=true, where they must run).
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from app.workflow.definitions import DefinitionError, load_definitions, parse_definition, unquoted
from tests.helpers import Cast, project_payload

ROOT = Path(__file__).parent.parent
WORKFLOWS = ROOT / "workflows"
SEEDS = ROOT.parent / "shared" / "seeds"
DEFINITIONS = load_definitions(WORKFLOWS)


def seeds() -> Path:
    if not SEEDS.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the policy texts are required under CI=true: {SEEDS} is missing")
        pytest.skip(f"the policy texts are not beside the repository ({SEEDS})")
    return SEEDS


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.key)
def test_every_quote_is_the_documents_own_words(definition):
    text = (seeds() / definition.source).read_text(encoding="utf-8")
    assert definition.quotes(), "a definition that cites nothing"
    assert unquoted(definition, text) == []


def test_heilongjiang_principle_is_quoted_as_it_reads():
    """The first version quoted "坚持市场为主、政府引导", which heilongjiang 一 does not say."""
    text = (seeds() / "heilongjiang-2024-67.txt").read_text(encoding="utf-8")
    hlj = next(d for d in DEFINITIONS if d.key == "heilongjiang-2024-67")
    assert "坚持市场为主" not in str(hlj.quotes())
    assert "坚持市场化推进" in text and ("一", "坚持市场化推进") in hlj.quotes()


def test_glosses_stay_outside_the_quotes():
    for definition in DEFINITIONS:
        for clause, quote in definition.quotes():
            assert not re.search(r"（(变更备案|环境影响评价|推定)", quote), (definition.key, clause)


def test_every_number_has_a_basis():
    """Time limits are local settings with their owner; targets and the energy grade cite a
    clause whose words contain the number; dates are stated or assumed with a reason."""
    for d in DEFINITIONS:
        for setting in d.settings.values():
            assert setting.basis.kind in ("document", "practice", "local"), (d.key, setting.name)
        for target in d.targets:
            assert target.clause in d.clauses and target.quote
        assert "effective" in d.dated or "effective" in d.assumed, d.key
        assert d.document or "document" in d.assumed, d.key
    raw = "\n".join(p.read_text(encoding="utf-8") for p in WORKFLOWS.glob("*.toml"))
    assert "sla_days" not in raw  # a bare number of days with no basis


def _broken(tmp_path, old: str, new: str) -> Path:
    shutil.copytree(WORKFLOWS, tmp_path / "workflows")
    path = tmp_path / "workflows" / "luoyang-2024-73.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path / "workflows"


def test_a_number_the_quote_does_not_contain_is_refused(tmp_path):
    broken = _broken(tmp_path, 'value = 140\n', 'value = 150\n')
    with pytest.raises(DefinitionError, match=r"luoyang-2024-73\.toml: target 'smart_factories'"
                                              r".*does not contain the number 150"):
        parse_definition(broken / "luoyang-2024-73.toml")


def test_a_time_limit_without_basis_is_refused(tmp_path):
    broken = _broken(tmp_path, '[settings.review]\nlabel = "县区初审推荐时限"\nvalue = 10\n'
                               'unit = "working_days"\nbasis = "local"\n',
                     '[settings.review]\nlabel = "县区初审推荐时限"\nvalue = 10\n'
                     'unit = "working_days"\n')
    with pytest.raises(DefinitionError, match="setting 'review': a number needs basis"):
        parse_definition(broken / "luoyang-2024-73.toml")


def test_check_names_the_file_and_clause_of_a_missing_quote(clean_app, tmp_path):
    from app import create_app
    from app.config import TestConfig

    broken = _broken(tmp_path, 'quote = "合理运用再贷款政策工具"',
                     'quote = "合理运用再贷款政策工具，由人民银行确定主办行"')
    app = create_app(type("Broken", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "WORKFLOWS_DIR": broken}))
    failed = app.test_cli_runner().invoke(args=["workflows", "check", "--documents",
                                                str(seeds())])
    assert failed.exit_code != 0
    assert "luoyang-2024-73.toml 三(五)" in failed.output
    assert "由人民银行确定主办行" in failed.output
    fine = clean_app.test_cli_runner().invoke(args=["workflows", "check", "--documents",
                                                    str(seeds())])
    assert fine.exit_code == 0, fine.output
    assert "every quote found in its document" in fine.output


def test_no_page_shows_a_seed_file_name(clean_app, client):
    """Documents are cited by title, number and clause, linked to the clause."""
    from tests.web import signed_in

    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("miit", "miit", "320500")
    api = cast.api(client, "ent")
    project = api.post("/projects", project_payload()).json
    api.fire(project["id"], "submit", 1)
    clerk = signed_in(clean_app, "miit")
    pages = [f"/projects/{project['id']}", "/workflows", "/queue", "/settings"] + [
        f"/workflows/{d.key}" for d in DEFINITIONS]
    for path in pages:
        page = clerk.get(path).get_data(as_text=True)
        assert ".txt" not in page, path
    page = clerk.get(f"/projects/{project['id']}").get_data(as_text=True)
    assert "《推动工业领域设备更新实施方案》（工信部联规〔2024〕53号）" in page
    assert 'href="/workflows/national-miit-2024-53#clause-结尾段"' in page
    workflow = clerk.get("/workflows/national-miit-2024-53").get_data(as_text=True)
    assert 'id="clause-结尾段"' in workflow
    assert "本地设定（默认值" in workflow  # a time limit says it is the agency's own
    assert "实践口径（" in workflow  # a practice figure names its source
    shanxi = clerk.get("/workflows/shanxi-2024").get_data(as_text=True)
    assert "生效日期按发布日推定" in shanxi and "原文未载文号" in shanxi
    liaocheng = clerk.get("/workflows/liaocheng-2024-draft").get_data(as_text=True)
    assert "征求意见稿" in liaocheng
