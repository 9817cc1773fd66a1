// 转办: hand a submitted registration to another 会计管理部门 (forwardRegistration).
import { request } from "./api.js";
import { h, mount, notice } from "./dom.js";

// departments of a city: the city's own and those of its districts (ConsoleDistricts), once per city
const DEPARTMENTS = new Map();

async function departmentsOf(city) {
  if (!DEPARTMENTS.has(city.code)) {
    const { divisions } = await request("ConsoleDistricts", { parentCode: city.code });
    const seen = new Map();
    for (const d of [city, ...divisions]) {
      if (d.department && !seen.has(d.department.code)) seen.set(d.department.code, d.department);
    }
    DEPARTMENTS.set(city.code, [...seen.values()]);
  }
  return DEPARTMENTS.get(city.code);
}

export function forwardForm(registration, reference, reload) {
  const current = registration.accountingDepartment?.code ?? "";
  const cities = reference.divisions;
  const home = cities.find((c) => c.code.slice(0, 4) === current.slice(0, 4)) ?? cities[0];
  const department = h("select", { name: "forwardDepartment" }, h("option", { value: "" }, "加载中…"));
  const fill = async (code) => {
    const city = cities.find((c) => c.code === code);
    const list = city ? await departmentsOf(city) : [];
    mount(department, h("option", { value: "" }, "请选择接收部门"),
      list.filter((d) => d.code !== current).map((d) => h("option", { value: d.code }, `${d.name}（${d.code}）`)));
  };
  const comment = h("textarea", { name: "forwardComment", rows: 2, cols: 36, maxlength: 500 });
  const slot = (field) => h("div", { class: "error-text", "data-forward-error": field });
  const box = h("section", { class: "card", "data-section": "forward" }, h("h2", {}, "转办"),
    h("p", { class: "muted" }, "不属于本部门受理的登记，转交其他会计管理部门审核。"),
    slot("registrationId"), slot("expectedVersion"),
    h("label", {}, "地市", h("select", { name: "forwardCity", onchange: (e) => fill(e.target.value) },
      cities.map((c) => h("option", { value: c.code, selected: c === home }, c.name)))),
    h("label", {}, "接收部门", department), slot("departmentCode"),
    h("label", {}, "转办说明", comment), slot("comment"),
    h("div", { class: "actions" }, h("button", { type: "button", "data-action": "forward", onclick: () => send() }, "转办")));
  if (home) fill(home.code).catch((error) => show([{ field: "registrationId", message: error.message }]));

  function show(errors) {
    for (const s of box.querySelectorAll("[data-forward-error]")) s.textContent = "";
    for (const error of errors) {
      const field = error.field.replace(/^input\./, "");
      const target = box.querySelector(`[data-forward-error="${CSS.escape(field)}"]`)
        ?? box.querySelector('[data-forward-error="registrationId"]');
      target.textContent = `${target.textContent} ${error.message}`.trim();
      if (error.code === "VERSION_CONFLICT") target.append(" ", h("button", { type: "button", onclick: reload }, "重新加载"));
    }
  }

  async function send() {
    const button = box.querySelector('[data-action="forward"]');
    button.disabled = true;
    const input = { registrationId: registration.id, expectedVersion: registration.version,
      departmentCode: department.value, comment: comment.value.trim() || null };
    try {
      const payload = (await request("ConsoleForward", { input })).forwardRegistration;
      if (payload.errors.length) {
        show(payload.errors);
        return;
      }
      const to = payload.registration?.accountingDepartment?.name ?? department.selectedOptions[0]?.textContent ?? "";
      notice(`已转办至${to}。`);
      window.location.hash = "#/queue";
    } catch (error) {
      show([{ field: "registrationId", message: error.message }]);
    } finally {
      button.disabled = false;
    }
  }
  return box;
}
