"""The language scan: every page the browser journeys reach, read in Chromium as a Chinese
clerk reads it, holds no raw key (snake_case like commitment_accepted), no file name
(*.txt, *.toml) and no English word — beyond a short list of words Chinese pages use as
they are."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Project
from app.projects.operations import get_project
from app.workflow import workflows
from tests.helpers import Cast
from tests.test_browser_journey import Desk
from tests.test_browser_routing import walk

pytestmark = pytest.mark.slow

# Words a Chinese page may show as they are, each with its reason.
ALLOWED = {
    "Jigai": "the product's brand",
    "API": "the interface's name in Chinese usage",
    "Excel": "the file format the export writes (导出 Excel)",
    "CSV": "the file format the export writes",
    "PDF": "upload formats, as clerks call them",
    "PNG": "upload formats",
    "JPEG": "upload formats",
    "KB": "file size unit",
    "MB": "file size unit",
    "EN": "the language switch offers English by its own name",
    "xlsx": "the workbook's file extension, which the upload asks for",
}
RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
FILE_NAME = re.compile(r"\b[\w-]+\.(?:txt|toml|py|html)\b")
WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")  # not inside a code

# What a person reads besides the text: names given to controls and tooltips.
READ = """() => {
  const parts = [document.title, document.body.innerText];
  for (const e of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt'])
      if (e.getAttribute(a)) parts.push(e.getAttribute(a));
  }
  for (const e of document.querySelectorAll('option, svg title, svg text'))
    parts.push(e.textContent);
  return parts.join('\\n');
}"""


def findings(text: str) -> list[str]:
    found = [f"raw key {m}" for m in RAW_KEY.findall(text)]
    found += [f"file name {m}" for m in FILE_NAME.findall(text)]
    found += [f"English {m}" for m in WORD.findall(text) if m not in ALLOWED]
    return sorted(set(found))


def test_findings_name_what_a_reader_would_stumble_on():
    assert "raw key commitment_accepted" in findings("缺少必填信息：comment / commitment_accepted")
    assert "file name national-miit-2024-53.txt" in findings("依据 national-miit-2024-53.txt 结尾段")
    assert "English Not" in findings("404 Not Found")
    assert findings("导出 Excel · Jigai · 10 MB") == []


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye", "320506")
    for kind in ("miit", "ndrc", "land", "env", "pboc", "finance"):
        cast.agency(f"sz_{kind}", kind, "320500")
    cast.agency("sz_checker", "miit", "320500")
    cast.bank("sz_bank", serves=("320500",))
    cast.admin("yunying")
    # Names as people give them: the cast's defaults are built from the (Latin) usernames.
    names = {"qiye": "苏州精工机械有限公司", "sz_miit": "苏州市工业和信息化局",
             "sz_ndrc": "苏州市发展和改革委员会", "sz_land": "苏州市自然资源和规划局",
             "sz_env": "苏州市生态环境局", "sz_pboc": "中国人民银行苏州市分行",
             "sz_finance": "苏州市财政局", "sz_checker": "苏州市工业和信息化局（复核）",
             "sz_bank": "中国工商银行苏州分行", "yunying": "技改项目库运营中心"}
    with clean_app.app_context():
        for username, name in names.items():
            user = cast.user(username)
            user.display_name, user.organization.name = "经办人", name
        db.session.commit()
    return cast


TODAY_STEPS = {
    "已申报": [("submit", "qiye")],
    "备案中": [("submit", "qiye"), ("accept", "sz_miit")],
    "对接中": [("submit", "qiye"), ("accept", "sz_miit"), ("sign_commitment", "qiye"),
                    ("file", "sz_ndrc"), ("whitelist", "sz_miit")],
    "已放款": [("submit", "qiye"), ("accept", "sz_miit"), ("sign_commitment", "qiye"),
             ("file", "sz_ndrc"), ("whitelist", "sz_miit"), ("express_interest", "sz_bank"),
             ("approve_credit", "sz_bank"), ("sign_contract", "sz_bank"),
             ("record_loan", "sz_bank")],
}


def test_no_raw_key_file_name_or_english_on_the_chinese_pages(browser, live_server, clean_app,
                                                               cast, artifacts, backend):
    for stage, steps in TODAY_STEPS.items():
        walk(clean_app, cast, "qiye", "320506", steps, f"扫描{stage}项目")
    walk(clean_app, cast, "qiye", "320506", [("submit", "qiye"), ("accept", "sz_miit")],
         "扫描新增用地项目", new_land=True)
    returned = walk(clean_app, cast, "qiye", "320506", [("submit", "qiye")], "扫描退回项目")
    with clean_app.app_context():
        project = get_project(cast.user("sz_miit"), returned)
        workflows().fire(project, "return", cast.user("sz_miit"), version=project.version,
                         comment="请补充设备清单。")
    with clean_app.app_context():
        ids = dict(db.session.execute(select(Project.name, Project.public_id)).all())
    project_pages = [f"/projects/{ids[name]}" for name in sorted(ids)]
    definitions = ["national-miit-2024-53", "heilongjiang-2024-67", "liaocheng-2024-draft",
                   "shanxi-2024", "luoyang-2024-73"]
    journeys = {
        "qiye": ["/", "/queue", "/projects", "/projects/new", "/notifications",
                 *project_pages, f"/projects/{ids['扫描退回项目']}/edit",
                 "/imports", "/no-such-page"],
        "sz_miit": ["/", "/queue", "/projects", "/dashboard", "/settings", "/imports",
                    "/notifications", "/workflows", *[f"/workflows/{k}" for k in definitions],
                    *project_pages, "/projects/new"],
        "sz_ndrc": ["/", "/queue", f"/projects/{ids['扫描备案中项目']}",
                    f"/projects/{ids['扫描新增用地项目']}"],
        "sz_pboc": ["/", "/queue", f"/projects/{ids['扫描已放款项目']}", "/loans"],
        "sz_bank": ["/", "/market", "/loans", "/queue", f"/projects/{ids['扫描已放款项目']}",
                    f"/projects/{ids['扫描对接中项目']}"],
        "yunying": ["/", "/projects", "/dashboard"],
    }
    found: dict[str, list[str]] = {}
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/login")
    found.update({f"anonymous {live_server}/login": findings(page.evaluate(READ))})
    context.close()
    for user, paths in journeys.items():
        desk = Desk(browser, live_server, user, artifacts, backend[0])
        for path in paths:
            desk.page.goto(live_server + path)
            problems = findings(desk.page.evaluate(READ))
            if problems:
                found[f"{user} {path}"] = problems
        desk.context.close()
    found = {k: v for k, v in found.items() if v}
    assert not found, "\n".join(f"{page}: {', '.join(items)}" for page, items in found.items())
