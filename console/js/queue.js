import { request, session } from "./api.js";
import { h, mount, statusName, statusTag, when } from "./dom.js";

// Filters and pages live in memory only: no names in the URL.
const state = { filter: { status: ["SUBMITTED"] }, cursors: [null], page: 0 };
const STATUSES = ["SUBMITTED", "RETURNED", "APPROVED", "WITHDRAWN"];

function filterForm(reference, onSearch) {
  const f = state.filter;
  const province = session.viewer?.role !== "REVIEWER";
  const departments = reference.divisions;
  const form = h("form", { class: "filters", "data-form": "queue-filter" },
    h("label", {}, "状态", h("select", { name: "status" },
      h("option", { value: "" }, "全部"),
      STATUSES.map((s) => h("option", { value: s, selected: f.status?.[0] === s }, statusName(s))))),
    h("label", {}, "提交日期从", h("input", { type: "date", name: "submittedFrom", value: f.submittedFrom ?? "" })),
    h("label", {}, "至", h("input", { type: "date", name: "submittedTo", value: f.submittedTo ?? "" })),
    province && h("label", {}, "地市", h("select", { name: "cityCode", onchange: (e) => districtsOf(form, e.target.value) },
      h("option", { value: "" }, "全部"),
      departments.map((d) => h("option", { value: d.code, selected: f.cityCode === d.code }, d.name)))),
    province
      ? h("label", {}, "会计管理部门（县、市、区）", h("select", { name: "districtCode" }, h("option", { value: "" }, "全部")))
      : h("label", {}, "县（市、区）代码", h("input", { name: "districtCode", size: 8, value: f.districtCode ?? "", placeholder: "如 330102" })),
    h("label", {}, "姓名", h("input", { name: "name", size: 8, value: f.name ?? "" })),
    h("button", { type: "submit", class: "primary" }, "查询"),
    h("span", { class: "error-text", "data-error": "filter" }));
  if (province && f.cityCode) districtsOf(form, f.cityCode, f.districtCode);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const filter = {};
    if (data.get("status")) filter.status = [data.get("status")];
    else filter.status = STATUSES;
    for (const key of ["submittedFrom", "submittedTo", "cityCode", "districtCode", "name"]) {
      const value = (data.get(key) ?? "").trim();
      if (value) filter[key] = value;
    }
    state.filter = filter;
    state.cursors = [null];
    state.page = 0;
    onSearch();
  });
  return form;
}

async function districtsOf(form, cityCode, selected) {
  const select = form.querySelector('select[name="districtCode"]');
  const options = cityCode ? (await request("ConsoleDistricts", { parentCode: cityCode })).divisions : [];
  mount(select, h("option", { value: "" }, "全部"),
    options.map((d) => h("option", { value: d.code, selected: d.code === selected }, `${d.name}（${d.department.name}）`)));
}

export async function renderQueue(main, reference) {
  const table = h("div", {}, h("p", { class: "muted" }, "加载中…"));
  const reload = () => loadPage(table, main).catch((error) => mount(table, h("p", { class: "error-text" }, error.message)));
  const scope = session.viewer?.department?.name ?? "全省";
  mount(main, h("section", { class: "card" },
    h("h2", {}, `待审队列 · ${scope}`),
    filterForm(reference, reload)), h("section", { class: "card" }, table));
  await reload();
}

async function loadPage(table, main) {
  const data = await request("ConsoleQueue", {
    filter: { ...state.filter, order: "OLDEST_FIRST" }, first: 20, after: state.cursors[state.page],
  });
  const page = data.registrations;
  for (const error of page.errors) {
    const slot = main.querySelector('[data-error="filter"]');
    slot.textContent = `${slot.textContent} ${error.message}`;
  }
  const rows = page.edges.map(({ node }) =>
    h("tr", { class: "row", "data-id": node.id, onclick: () => { location.hash = `#/case/${node.id}`; } },
      h("td", {}, h("a", { href: `#/case/${node.id}` }, node.name)),
      h("td", {}, node.idType.name, h("br"), h("span", { class: "muted" }, node.maskedIdNumber)),
      h("td", {}, node.maskedPhone ?? "—"),
      h("td", {}, node.accountingDepartment?.name ?? "—"),
      h("td", {}, when(node.submittedAt)),
      h("td", {}, node.submissionCount > 1 ? `第 ${node.submissionCount} 次` : "首次"),
      h("td", {}, statusTag(node.status))));
  mount(table,
    h("table", { "data-table": "queue" },
      h("thead", {}, h("tr", {}, ["姓名", "证件", "手机", "会计管理部门", "提交时间", "提交", "状态"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "没有符合条件的登记。")))),
    h("div", { class: "pager" },
      h("span", { "data-total": page.totalCount }, `共 ${page.totalCount} 条 · 第 ${state.page + 1} 页（按提交时间，最早的在前）`),
      h("button", { type: "button", disabled: state.page === 0, onclick: () => { state.page -= 1; loadPage(table, main); } }, "上一页"),
      h("button", { type: "button", disabled: !page.pageInfo.hasNextPage, onclick: () => {
        state.cursors[state.page + 1] = page.pageInfo.endCursor;
        state.page += 1;
        loadPage(table, main);
      } }, "下一页")));
}
