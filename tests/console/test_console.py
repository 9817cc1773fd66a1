"""End to end in Chromium: a reviewer of 330102 returns a registration, sees the applicant's
fix arrive, approves it; the dashboard draws registrationStats; 330106 sees none of it until
330102 forwards one (转办)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright, expect

from models.id_numbers import resident_id_check_char
from tests.api import Api
from tests.console import CHROMIUM_ARGS, WAIT_MS, Console, chromium_path, console_server
from tests.uploads import upload_all
from tests.wizard import (
    BASIC,
    MY_REGISTRATION,
    SAVE_BASIC,
    SUBMIT,
    fill_wizard,
    ok,
    sign_in,
    submitted_registration,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
STATS = """query($filter: RegistrationStatsFilter) { registrationStats(filter: $filter) {
  totalDisplay byStatus { status display } backlogByAge { label display }
  returnsByReason { reason { name } display } } }"""
BACKLOG = """query($filter: RegistrationStatsFilter) { registrationStats(filter: $filter) {
  backlogByDepartment { department { code name } waiting { display } returned { display } } } }"""
REVIEWER = """mutation($code: String!) { devLogin(input: {name: "统计核对", reviewerDepartmentCode: $code}) {
  accessToken errors { code } } }"""

# one server and one browser for the module, on one xdist worker; the tests build on each other
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console-browser")]
expect.set_options(timeout=WAIT_MS)
OPERATIONS = Path(__file__).resolve().parents[2] / "operations"
SENT: list[str] = []  # every GraphQL document the pages sent, over HTTP and WebSocket
URLS: list[str] = []  # every URL the pages requested
BLOCKED: list[str] = []  # Content-Security-Policy violations reported by the pages


def record_traffic(page: Page) -> None:
    def on_request(request: Any) -> None:
        URLS.append(request.url)
        if request.url.endswith("/graphql") and request.method == "POST":
            SENT.append(request.post_data_json["query"])

    def on_frame(payload: str | bytes) -> None:
        message = json.loads(payload)
        if message.get("type") == "subscribe":
            SENT.append(message["payload"]["query"])

    page.on("request", on_request)
    page.on(
        "console",
        lambda message: (
            BLOCKED.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("websocket", lambda ws: ws.on("framesent", on_frame))


def assert_only_trusted_documents_and_clean_urls(*personal: str) -> None:
    files = {p.read_text(encoding="utf-8") for p in OPERATIONS.glob("*.graphql")}
    assert SENT and all(text in files for text in SENT), [t[:60] for t in SENT if t not in files]
    assert URLS and not [u for u in URLS for word in personal if word in u]
    assert BLOCKED == []


def applicant(n: int, name: str) -> dict[str, str]:
    body = f"33010619900307{n:03d}"
    return {
        "name": name,
        "idType": "01",
        "idNumber": body + resident_id_check_char(body),
        "phone": f"1381234{n:04d}",
    }


def small_png(source: Path, name: str) -> None:
    """A small copy (3/4 size, 128 colours, under 200 KB) next to the screenshot; with
    UPDATE_DOCS_SCREENSHOTS=1 also into docs/ for the README."""
    image = Image.open(source).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.quantize(colors=128).save(buffer, "PNG", optimize=True)
    assert len(buffer.getvalue()) < 200_000
    (source.parent / name).write_bytes(buffer.getvalue())
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        (DOCS / name).write_bytes(buffer.getvalue())


@pytest.fixture(scope="module")
async def console(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    async with console_server(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="module")
async def seeded(console: Console) -> dict[str, Any]:
    """One registration with real uploads (for the previews) and five more, all in 330102."""
    api = await sign_in(console.api, applicant(1, "李会计"))
    registration = await fill_wizard(api)
    await upload_all(api, registration)
    registration = (await api.data(MY_REGISTRATION))["myRegistration"]
    registration = await ok(api, SUBMIT, registration, agreed=True)
    others = [
        await submitted_registration(await sign_in(console.api, applicant(n, f"王{n}")))
        for n in range(2, 7)
    ]
    return {"api": api, "registration": registration, "others": others}


async def open_console(browser: Browser, console: Console, department: str) -> Page:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    record_traffic(page)
    await page.goto(console.base_url + "/console")
    form = page.locator('[data-form="ConsoleDevLogin"]')
    await form.locator('input[name="name"]').fill("审核员")
    await form.locator('input[name="reviewerDepartmentCode"]').fill(department)
    await form.locator("button").click()
    await expect(page.locator('[data-table="queue"]')).to_be_visible()
    return page


async def test_review_return_fix_and_approve(
    console: Console, browser: Browser, seeded: dict[str, Any], tmp_path: Path
) -> None:
    registration_id = seeded["registration"]["id"]
    page = await open_console(browser, console, "330102")
    assert registration_id not in page.url
    row = page.locator(f'tr[data-id="{registration_id}"]')
    await expect(row).to_contain_text("李会计")
    await expect(row).to_contain_text("330106********")  # masked identity
    await expect(page.locator("[data-total]")).to_have_attribute("data-total", "6")
    await page.screenshot(path=tmp_path / "queue.png", full_page=True)

    await row.click()
    await expect(page.locator('[data-section="basicInfo"]')).to_be_visible()
    assert page.url.endswith(f"#/case/{registration_id}")
    await expect(page.locator('[data-field="basicInfo.ethnicGroup"]')).to_contain_text("汉族")
    photo = page.locator('img[data-kind="ID_PHOTO"]')
    await expect(photo).to_be_visible()
    assert await photo.evaluate("img => img.complete && img.naturalWidth > 0")
    await photo.click()
    await expect(page.locator("#zoom")).to_be_visible()
    await page.locator("#zoom").click()
    await page.screenshot(path=tmp_path / "case.png", full_page=True)

    # returning with nothing chosen is a FieldError next to the items
    await page.locator('[data-action="return"]').click()
    await expect(page.locator('[data-error-for="items"]')).not_to_be_empty()
    # each item's reasons are those that fit it (returnReasons(field:))
    assert "PHOTO_BACKGROUND" in await reason_codes(page, "attachments.ID_PHOTO")
    assert "PHOTO_BACKGROUND" not in await reason_codes(page, "education.fullTime")
    await page.locator('[data-return="basicInfo.ethnicGroup"]').check()
    reason = page.locator('[data-reason="basicInfo.ethnicGroup"]')
    await reason.select_option(label="信息填写有误")
    await page.locator('[data-action="return"]').click()
    await expect(page.locator(".status-RETURNED").first).to_be_visible()

    # the applicant fixes the field and submits again; the badge counts the arrival
    api: Api = seeded["api"]
    mine = (await api.data(MY_REGISTRATION))["myRegistration"]
    assert mine["reopenedFields"] == ["basicInfo.ethnicGroup"]
    mine = await ok(api, SAVE_BASIC, mine, **{**BASIC, "ethnicGroup": "02"})
    await ok(api, SUBMIT, mine, agreed=True)
    await expect(page.locator("#badge")).to_have_attribute("data-count", "1")
    await page.screenshot(path=tmp_path / "arrived.png")

    await page.locator('[data-nav="queue"]').click()
    await expect(page.locator(f'tr[data-id="{registration_id}"]')).to_contain_text("第 2 次")
    await page.locator(f'tr[data-id="{registration_id}"]').click()
    changes = page.locator('[data-section="changes"]')
    await expect(changes).to_contain_text("民族")
    await expect(changes).to_contain_text("蒙古族")
    for box in await page.locator("[data-finding]").all():
        await box.check()
    await page.screenshot(path=tmp_path / "resubmitted.png", full_page=True)
    small_png(tmp_path / "resubmitted.png", "console-case.png")
    await page.locator('[data-action="approve"]').click()
    await expect(page.locator(".status-APPROVED").first).to_be_visible()
    await expect(page.locator('[data-section="history"]')).to_contain_text("审核通过")
    await page.screenshot(path=tmp_path / "approved.png", full_page=True)
    await page.context.close()
    identity = applicant(1, "李会计")
    assert_only_trusted_documents_and_clean_urls(identity["name"], identity["idNumber"])


async def reason_codes(page: Page, path: str) -> list[str]:
    """Tick an item for return, read its reason dropdown once loaded, untick it again."""
    box = page.locator(f'[data-return="{path}"]')
    await box.check()
    select = page.locator(f'[data-reason="{path}"][data-loaded]')
    await expect(select).to_be_visible()
    codes = await select.locator("option").evaluate_all("os => os.map(o => o.value)")
    await box.uncheck()
    await expect(page.locator(f'[data-reason="{path}"]')).to_have_count(0)
    return [code for code in codes if code]


async def chart_labels(page: Page, key: str) -> list[str]:
    return await page.evaluate(
        """key => echarts.getInstanceByDom(document.querySelector(`[data-chart="${key}"]`))
             .getOption().series[0].data.map(d => d.label.formatter)""",
        key,
    )


async def test_dashboard_draws_the_statistics(
    console: Console, browser: Browser, seeded: dict[str, Any], tmp_path: Path
) -> None:
    token = (await console.api.data(REVIEWER, {"code": "330102"}))["devLogin"]["accessToken"]
    stats = (await console.api.data(STATS, {}, token=token))["registrationStats"]
    page = await open_console(browser, console, "330102")
    await page.locator('[data-nav="dashboard"]').click()
    await expect(page.locator('[data-chart="byStatus"] canvas')).to_be_visible()
    await expect(page.locator('[data-figure="total"]')).to_have_text(stats["totalDisplay"])
    assert await chart_labels(page, "byStatus") == [c["display"] for c in stats["byStatus"]]
    assert await chart_labels(page, "backlog") == [c["display"] for c in stats["backlogByAge"]]
    assert await chart_labels(page, "returns") == [c["display"] for c in stats["returnsByReason"]]
    shown = {c["status"]: c["display"] for c in stats["byStatus"]}
    # the seeded six: one approved, five waiting; the department's own REVIEWER sees exact
    # counts (the small-group rule, '<5' and '*', is for the DASHBOARD role)
    assert stats["totalDisplay"] == "6"
    assert (shown["APPROVED"], shown["SUBMITTED"]) == ("1", "5")
    await expect(page.locator('[data-cells="byStatus"]')).to_contain_text("已通过 1")
    await expect(page.locator('[data-cells="byStatus"]')).to_contain_text("待审核 5")
    for key in ("daily", "backlog", "returns"):
        await expect(page.locator(f'[data-chart="{key}"] canvas')).to_be_visible()
    await page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
    small_png(tmp_path / "dashboard.png", "console-dashboard.png")
    await page.context.close()
    assert_only_trusted_documents_and_clean_urls()


async def test_another_department_sees_none_of_it(
    console: Console, browser: Browser, seeded: dict[str, Any], tmp_path: Path
) -> None:
    page = await open_console(browser, console, "330106")
    await expect(page.locator("[data-total]")).to_have_attribute("data-total", "0")
    await page.locator('select[name="status"]').select_option("")
    await page.locator('[data-form="queue-filter"] button').click()
    await expect(page.locator("[data-total]")).to_have_attribute("data-total", "0")
    await page.screenshot(path=tmp_path / "other-queue.png")
    await page.goto(f"{console.base_url}/console/#/case/{seeded['registration']['id']}")
    await expect(page.locator("main")).to_contain_text(re.compile("找不到这条登记|登录"))
    await page.context.close()


async def test_one_sign_in_for_all_tabs_and_a_clear_end(
    console: Console, browser: Browser, seeded: dict[str, Any]
) -> None:
    first = await open_console(browser, console, "330102")
    assert await first.evaluate("Object.keys(localStorage).length") == 0
    stored = await first.evaluate("Object.keys(sessionStorage)")
    assert stored == ["console.refreshToken"]
    assert "accessToken" not in await first.evaluate("JSON.stringify(sessionStorage)")

    # the refresh timer renews the session before the access token expires (15 minutes)
    await first.clock.install()
    await first.reload()
    await expect(first.locator('[data-table="queue"]')).to_be_visible()
    before = await first.evaluate("sessionStorage.getItem('console.refreshToken')")
    await first.clock.run_for("14:30")
    for _ in range(120):
        if await first.evaluate("sessionStorage.getItem('console.refreshToken')") != before:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the session was not refreshed before the access token expired")
    await first.locator('[data-nav="dashboard"]').click()
    await expect(first.locator('[data-figure="total"]')).to_have_text("6")

    # a second tab of the same browser is signed in by the first one (BroadcastChannel)
    second = await first.context.new_page()
    record_traffic(second)
    await second.goto(console.base_url + "/console/#/dashboard")
    await expect(second.locator('[data-figure="total"]')).to_have_text("6")

    # the server ends the session: the next request says so in plain words
    from sqlalchemy import update

    from models.accounts import AuthSession
    from models.clock import utcnow
    from models.db import transaction

    async with transaction(console.api.services.db) as db:
        await db.exec(update(AuthSession).values(revoked_at=utcnow()))  # type: ignore[call-overload]
    await second.locator('[data-nav="queue"]').click()
    await expect(second.locator("#notice")).to_contain_text("重新登录")
    await expect(second.locator('[data-form="ConsoleDevLogin"]')).to_be_visible()

    # signing out in one tab signs out the others
    third = await open_console(browser, console, "330102")
    fourth = await third.context.new_page()
    await fourth.goto(console.base_url + "/console/#/dashboard")
    await expect(fourth.locator('[data-figure="total"]')).to_have_text("6")
    await third.locator('[data-action="logout"]').click()
    await expect(third.locator("#notice")).to_contain_text("您已退出登录")
    await expect(fourth.locator("#notice")).to_contain_text("另一个标签页退出登录")
    await expect(fourth.locator('[data-form="ConsoleStaffLogin"]')).to_be_visible()
    assert await third.evaluate("Object.keys(sessionStorage)") == []
    await first.context.close()
    await third.context.close()
    assert_only_trusted_documents_and_clean_urls()


async def test_the_province_filters_by_department(
    console: Console, browser: Browser, seeded: dict[str, Any], tmp_path: Path
) -> None:
    page = await open_console(browser, console, "330000")
    total = page.locator("[data-total]")
    await expect(total).not_to_have_attribute("data-total", "0")
    everything = await total.get_attribute("data-total")
    await page.locator('select[name="cityCode"]').select_option("330100")
    district = page.locator('select[name="districtCode"]')
    await expect(district.locator('option[value="330102"]')).to_have_count(1)
    await district.select_option("330106")
    await page.locator('[data-form="queue-filter"] button').click()
    await expect(total).to_have_attribute("data-total", "0")
    await page.locator('select[name="districtCode"]').select_option("330102")
    await page.locator('[data-form="queue-filter"] button').click()
    await expect(total).to_have_attribute("data-total", everything or "")
    await page.screenshot(path=tmp_path / "province-queue.png")
    await page.locator('[data-nav="dashboard"]').click()
    await expect(page.locator('[data-chart="byDepartment"] canvas')).to_be_visible()
    await page.locator('select[name="statsCity"]').select_option("330200")
    await expect(page.locator('[data-figure="total"]')).to_have_text("0")
    await page.locator('select[name="statsCity"]').select_option("330100")
    await expect(page.locator('[data-figure="total"]')).to_have_text("6")
    # the city's departments side by side: waiting and returned stacked, suppression kept
    token = (await console.api.data(REVIEWER, {"code": "330000"}))["devLogin"]["accessToken"]
    filter_ = {"filter": {"cityCode": "330100"}}
    backlog = (await console.api.data(BACKLOG, filter_, token=token))["registrationStats"]
    rows = backlog["backlogByDepartment"]
    assert {"330102", "330106"} <= {r["department"]["code"] for r in rows}
    await expect(page.locator('[data-chart="backlogByDepartment"] canvas')).to_be_visible()
    drawn = await page.evaluate(
        """() => echarts.getInstanceByDom(document.querySelector('[data-chart="backlogByDepartment"]'))
             .getOption().series.map(s => s.data.map(d => d.label.formatter))"""
    )
    assert drawn == [
        [r["waiting"]["display"] for r in rows],
        [r["returned"]["display"] for r in rows],
    ]
    await expect(page.locator('[data-cells="backlogByDepartment"]')).to_contain_text(
        rows[0]["department"]["name"]
    )
    await page.screenshot(path=tmp_path / "province-dashboard.png")
    await page.context.close()
    assert_only_trusted_documents_and_clean_urls()


APPROVE = """mutation($input: ApproveRegistrationInput!) { approveRegistration(input: $input) {
  errors { code } } }"""


async def test_a_version_conflict_is_shown_where_it_happened(
    console: Console, browser: Browser, seeded: dict[str, Any], tmp_path: Path
) -> None:
    """Last in the module: it approves one more registration."""
    other = seeded["others"][0]
    page = await open_console(browser, console, "330102")
    row_id = other["id"]
    await page.locator(f'tr[data-id="{row_id}"]').click()
    await expect(page.locator('[data-section="review"]')).to_be_visible()
    token = (await console.api.data(REVIEWER, {"code": "330102"}))["devLogin"]["accessToken"]
    variables = {"input": {"registrationId": other["id"], "expectedVersion": other["version"]}}
    assert (await console.api.data(APPROVE, variables, token=token))["approveRegistration"] == {
        "errors": []
    }
    await page.locator('[data-action="approve"]').click()
    conflict = page.locator('[data-error-for="expectedVersion"]')
    await expect(conflict).to_contain_text("已在其他地方被修改")
    await page.screenshot(path=tmp_path / "conflict.png")
    await conflict.locator("button").click()
    await expect(page.locator(".status-APPROVED").first).to_be_visible()
    await page.context.close()


async def test_a_reviewer_forwards_to_another_department(
    console: Console, browser: Browser, seeded: dict[str, Any], tmp_path: Path
) -> None:
    """After the others: it moves one registration from 330102 to 330106."""
    other = seeded["others"][1]
    page = await open_console(browser, console, "330102")
    await page.locator(f'tr[data-id="{other["id"]}"]').click()
    form = page.locator('[data-section="forward"]')
    await expect(form).to_be_visible()
    # no department chosen: the FieldError is shown next to the picker, nothing moves
    await form.locator('[data-action="forward"]').click()
    await expect(form.locator('[data-forward-error="departmentCode"]')).not_to_be_empty()
    await expect(form.locator('select[name="forwardCity"]')).to_have_value("330100")
    picker = form.locator('select[name="forwardDepartment"]')
    await expect(picker.locator('option[value="330106"]')).to_have_count(1)
    await expect(picker.locator('option[value="330102"]')).to_have_count(0)
    await picker.select_option("330106")
    await form.locator('textarea[name="forwardComment"]').fill("办公地在西湖区")
    await page.screenshot(path=tmp_path / "forward.png", full_page=True)
    await form.locator('[data-action="forward"]').click()
    await expect(page.locator('[data-table="queue"]')).to_be_visible()
    assert page.url.endswith("#/queue")
    await expect(page.locator(f'tr[data-id="{other["id"]}"]')).to_have_count(0)
    await page.context.close()

    receiving = await open_console(browser, console, "330106")
    row = receiving.locator(f'tr[data-id="{other["id"]}"]')
    await expect(row).to_be_visible()
    await row.click()
    await expect(receiving.locator('[data-section="history"]')).to_contain_text("办公地在西湖区")
    await receiving.context.close()
    assert_only_trusted_documents_and_clean_urls()
