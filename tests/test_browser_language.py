"""Chinese first and finding things, as a clerk sees them in Chromium: errors beside their
fields with the field's name, documents cited by title and clause, localized error pages
and a favicon, dates written the Chinese way, a status that names the route the project
takes, recent events on the workbench, and filters by name kept in the address."""

import re

import pytest

from tests.helpers import Cast
from tests.test_browser_journey import Desk
from tests.test_browser_routing import walk

pytestmark = pytest.mark.slow


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye_sz", "320506")
    for kind in ("miit", "ndrc", "land", "env"):
        cast.agency(f"sz_{kind}", kind, "320500")
    cast.bank("sz_bank", serves=("320500",))
    return cast


def desk(browser, live_server, artifacts, backend, user, width=1366):
    d = Desk(browser, live_server, user, artifacts, backend[0])
    if width != 1366:
        d.page.set_viewport_size({"width": width, "height": 800})
    return d


def test_error_pages_speak_chinese_and_the_favicon_is_served(browser, live_server, cast,
                                                             artifacts, backend):
    clerk = desk(browser, live_server, artifacts, backend, "sz_miit")
    page = clerk.page
    response = page.goto(live_server + "/no-such-page")
    assert response.status == 404
    text = page.inner_text("#error")
    assert "页面不存在" in text
    assert not re.search(r"[A-Za-z]{3,}", text), text  # no werkzeug description
    clerk.shot("20-not-found")

    enterprise = desk(browser, live_server, artifacts, backend, "qiye_sz")
    response = enterprise.page.goto(live_server + "/imports")
    assert response.status == 403
    text = enterprise.page.inner_text("#error")
    assert "无权" in text and not re.search(r"[A-Za-z]{3,}", text), text

    icon = page.request.get(live_server + "/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
    assert page.locator("link[rel=icon]").get_attribute("href") == "/favicon.ico"


def test_a_new_land_project_is_labelled_ordinary_filing(browser, live_server, clean_app, cast,
                                                        artifacts, backend):
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz"), ("accept", "sz_miit")],
         "新增用地扩建项目", new_land=True)
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz"), ("accept", "sz_miit")],
         "承诺备案改造项目")
    clerk = desk(browser, live_server, artifacts, backend, "sz_ndrc")
    clerk.open_project("新增用地扩建项目")
    assert clerk.status() == "一般备案"
    assert "应按一般备案程序办理" in clerk.page.inner_text("main")
    assert "承诺备案" not in clerk.page.inner_text(".stages")
    assert "同意入库 → 一般备案" in clerk.page.inner_text("#timeline")
    clerk.open_project("承诺备案改造项目")
    assert clerk.status() == "承诺备案"
    clerk.page.goto(live_server + "/projects")
    row = clerk.page.locator("tr", has_text="新增用地扩建项目")
    assert row.locator(".badge").inner_text() == "一般备案"
    api = cast.api(clean_app.test_client(), "sz_ndrc")
    found = api.get("/projects", q="新增用地扩建项目", lang="zh").json["items"][0]
    assert found["status"] == "commitment_filing" and found["status_label"] == "一般备案"


def test_missing_fields_are_named_marked_and_highlighted(browser, live_server, clean_app, cast,
                                                         artifacts, backend):
    ent = desk(browser, live_server, artifacts, backend, "qiye_sz")
    p = ent.page
    p.goto(live_server + "/projects/new")
    required = ("name", "jurisdiction", "industry", "task", "batch_year", "content",
                "total_investment", "fixed_asset_investment", "equipment_investment",
                "planned_start", "planned_end")
    for name in required:  # every field the submission needs carries its *
        assert p.locator(f".field--required:has(#{name})").count() == 1, name
    p.fill("#name", "只填了名称的项目")
    with p.expect_navigation():
        p.click("button[name=submit]")
    assert "未能提交" in p.inner_text(".flash--error")
    for name in ("content", "total_investment", "equipment_investment", "planned_start"):
        field = p.locator(f".field--invalid:has(#{name})")
        assert field.count() == 1, name
        assert "提交申报前" in field.locator(".field__error").inner_text()
    page_text = p.inner_text("main")
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", page_text), page_text
    ent.shot("21-submit-missing-fields")

    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz"), ("accept", "sz_miit")],
         "待签署承诺项目")
    ent.open_project("待签署承诺项目")
    p.click("#action-sign_commitment summary")
    with p.expect_navigation():
        p.click("#action-sign_commitment form button[type=submit]")
    action = p.inner_text("#action-sign_commitment")
    assert "commitment_accepted" not in action and "缺少必填信息" in action
    beside = p.locator("#action-sign_commitment .field--invalid .field__error").inner_text()
    assert "已阅读并签署承诺书" in beside, beside

    api = cast.api(clean_app.test_client(), "qiye_sz")
    found = api.get("/projects", q="待签署承诺项目", lang="zh").json["items"][0]
    answer = api.fire(found["id"], "sign_commitment", found["version"], lang="zh")
    assert answer.status_code == 422
    body = answer.json
    assert "data.commitment_accepted" in body["fields"]  # the key stays the key …
    assert "commitment_accepted" not in body["message"]  # … the words name the field


OVERLAPS = """svg => {
  const frame = svg.getBoundingClientRect();
  // an arrow's number sits in its circle: the circle stands for both
  const boxes = [...svg.querySelectorAll('text:not(.wf-mark), circle')].map(e => {
    const r = e.getBoundingClientRect();
    const label = e.tagName === 'circle' ? 'arrow ' + e.nextElementSibling.textContent
                                         : e.textContent;
    return {text: label, l: r.left, r: r.right, t: r.top, b: r.bottom};
  });
  const found = [];
  for (const a of boxes) {
    if (a.l < frame.left - 1 || a.r > frame.right + 1 || a.t < frame.top - 1
        || a.b > frame.bottom + 1) found.push('clipped: ' + a.text);
  }
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1)
      found.push(a.text + ' / ' + b.text);
  }
  return found;
}"""


@pytest.mark.parametrize("key", ["national-miit-2024-53", "heilongjiang-2024-67",
                                 "liaocheng-2024-draft", "shanxi-2024", "luoyang-2024-73"])
def test_the_diagram_labels_neither_overlap_nor_are_clipped(browser, live_server, cast,
                                                            artifacts, backend, key):
    clerk = desk(browser, live_server, artifacts, backend, "sz_miit")
    clerk.page.goto(f"{live_server}/workflows/{key}")
    svg = clerk.page.locator("svg.wf-diagram")
    svg.scroll_into_view_if_needed()
    assert svg.evaluate(OVERLAPS) == []
    numbers = svg.locator(".wf-mark").all_inner_texts()
    legend = clerk.page.locator(".wf-legend li")
    assert legend.count() == len(numbers) > 0  # each numbered arrow is named below
    assert "提交申报" in legend.first.inner_text()
    text = clerk.page.inner_text("main")
    assert "Mermaid" not in text and "(county)" not in text and "(city)" not in text
    assert not re.search(r"\b\d{6}\b", text), "a region code instead of its name"
    if key == "heilongjiang-2024-67":
        svg.screenshot(path=f"{artifacts}/{backend[0]}-22-diagram-1366.png")


def test_citations_link_to_their_clause_on_the_definition_page(browser, live_server, clean_app,
                                                              cast, artifacts, backend):
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz"), ("accept", "sz_miit")],
         "引用条款项目")
    clerk = desk(browser, live_server, artifacts, backend, "sz_ndrc")
    clerk.open_project("引用条款项目")
    links = clerk.page.locator(".timeline__clause a")
    assert links.count() >= 2
    hrefs = set(links.evaluate_all("xs => xs.map(x => x.getAttribute('href'))"))
    for text in links.all_text_contents():
        assert "《推动工业领域设备更新实施方案》（工信部联规〔2024〕53号）" in text
        assert ".txt" not in text and ".toml" not in text
    for href in hrefs:
        path, anchor = href.split("#")
        assert path == "/workflows/national-miit-2024-53"
        clerk.page.goto(live_server + href)
        assert clerk.page.locator(f"[id='{anchor}']").count() == 1, href


def test_workbench_shows_recent_steps_and_opening_a_notice_reads_it(
        browser, live_server, clean_app, cast, artifacts, backend):
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz")], "最近更新项目")
    clerk = desk(browser, live_server, artifacts, backend, "sz_miit")
    recent = clerk.page.inner_text("#recent-events")
    assert "最近更新项目" in recent and "提交申报" in recent and "qiye_sz有限公司" in recent

    assert clerk.page.inner_text(".bell__count") == "1"
    clerk.page.click("#bell")
    with clerk.page.expect_navigation():
        clerk.page.click(".notice--unread a")
    assert "最近更新项目" in clerk.page.inner_text("h1")
    assert clerk.page.locator(".bell__count").count() == 0  # read by being opened
    clerk.page.goto(live_server + "/notifications")
    assert clerk.page.locator(".notice--unread").count() == 0

    clerk.open_project("最近更新项目")
    clerk.act("accept")
    clerk.page.goto(live_server + "/")
    first = clerk.page.locator("#recent-events li").first.inner_text()
    assert "最近更新项目" in first and "同意入库 → 承诺备案" in first


def test_find_by_region_name_industry_and_codes_with_counts_in_the_address(
        browser, live_server, clean_app, cast, artifacts, backend):
    cast.enterprise("qiye_ks", "320583")  # 昆山市
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz")], "吴中数控改造项目")
    walk(clean_app, cast, "qiye_ks", "320583", [("submit", "qiye_ks")], "昆山电子改造项目",
         industry="电子信息")
    clerk = desk(browser, live_server, artifacts, backend, "sz_miit")
    page = clerk.page
    page.goto(live_server + "/queue")
    assert page.inner_text("#result-count") == "共 2 个结果"
    assert "剩余工作日" in page.inner_text("table thead")
    assert re.fullmatch(r"\d+", page.locator("td.days-left").first.inner_text())
    options = page.locator("#q-region option").all_inner_texts()
    assert "苏州市" in options[1] and any(o.strip() == "吴中区" for o in options)
    page.select_option("#q-region", label="　吴中区")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert "region=320506" in page.url  # the view is bookmarkable
    assert page.inner_text("#result-count") == "共 1 个结果"
    assert "吴中数控改造项目" in page.inner_text("table")
    assert "昆山电子改造项目" not in page.inner_text("table")
    clerk.shot("23-queue-1366")
    page.set_viewport_size({"width": 390, "height": 800})
    clerk.shot("24-queue-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    response = page.goto(live_server + "/queue?region=吴中区")  # typed by name, not a 422
    assert response.status == 200 and page.inner_text("#result-count") == "共 1 个结果"
    response = page.goto(live_server + "/queue?region=无此区")
    assert response.status == 422
    assert "请从列表中选择" in page.inner_text(".field--invalid:has(#q-region)")

    page.goto(live_server + "/projects")
    page.select_option("#f-industry", "电子信息")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert "industry=" in page.url and page.inner_text("#result-count") == "共 1 个结果"
    assert "昆山电子改造项目" in page.inner_text("table")

    code = page.locator("table small.muted").first.inner_text()
    page.goto(live_server + "/projects")
    page.fill("#f-q", code)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert page.inner_text("#result-count") == "共 1 个结果"
    assert "昆山电子改造项目" in page.inner_text("table")
    with clean_app.app_context():
        credit = cast.user("qiye_sz").organization.credit_code
    page.fill("#f-q", credit)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert "吴中数控改造项目" in page.inner_text("table")
    assert "昆山电子改造项目" not in page.inner_text("table")

    clerk.open_project("吴中数控改造项目")
    clerk.shot("25-project-1366")
    page.set_viewport_size({"width": 390, "height": 800})
    clerk.shot("26-project-390")


ISO_DAY = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")
CHINESE_DAY = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def test_dates_in_sentences_are_written_the_chinese_way(browser, live_server, clean_app, cast,
                                                        artifacts, backend):
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz")], "日期格式项目")
    clerk = desk(browser, live_server, artifacts, backend, "sz_miit")
    clerk.page.goto(live_server + "/notifications")
    notice = clerk.page.inner_text(".notice-list")
    assert "日期格式项目" in notice and CHINESE_DAY.search(notice), notice
    clerk.open_project("日期格式项目")
    text = clerk.page.inner_text("main")
    assert CHINESE_DAY.search(text) and not ISO_DAY.search(text), ISO_DAY.findall(text)

    ent = desk(browser, live_server, artifacts, backend, "qiye_sz")
    walk(clean_app, cast, "qiye_sz", "320506", [("submit", "qiye_sz"), ("accept", "sz_miit"),
                                                ("sign_commitment", "qiye_sz")], "已签承诺项目")
    ent.open_project("已签承诺项目")
    assert not ISO_DAY.search(ent.page.inner_text("main"))
    api = cast.api(clean_app.test_client(), "qiye_sz")
    found = api.get("/projects", q="已签承诺项目", lang="zh").json["items"][0]
    answer = api.fire(found["id"], "sign_commitment", found["version"], lang="zh",
                      commitment_accepted=True)
    assert answer.status_code in (409, 422)
    message = answer.json["message"]
    assert CHINESE_DAY.search(message) and not ISO_DAY.search(message), message
