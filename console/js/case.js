import { request } from "./api.js";
import { h, mount, notice, statusTag, when } from "./dom.js";
import { forwardForm } from "./forward.js";

const BASIC = [
  ["name", "姓名"], ["phone", "手机号码"], ["idType", "证件类型", "idTypes"], ["idNumber", "证件号码"],
  ["gender", "性别", "genders"], ["birthDate", "出生日期"], ["countryOrRegion", "国家或地区", "countriesOrRegions"],
  ["ethnicGroup", "民族", "ethnicGroups"], ["politicalStatus", "政治面貌", "politicalStatuses"], ["remarks", "备注"],
];
const WORK = [
  ["creditCode", "统一社会信用代码"], ["unitName", "单位名称"], ["economicType", "经济类型", "economicTypes"],
  ["officeDivision", "办公所在地"], ["postalCode", "邮政编码"], ["accountingStartDate", "从事会计工作日期"],
  ["accountingPost", "会计岗位", "accountingPosts"], ["administrativeTitle", "行政职务", "administrativeTitles"],
];
const RESIDENCE = [["division", "居住地"], ["address", "详细地址"], ["postalCode", "邮政编码"]];
const EDUCATION = [
  ["level", "学历", "educationLevels"], ["degree", "学位", "degrees"], ["verificationNumber", "电子认证号"],
  ["major", "专业"], ["school", "毕业院校"], ["graduationDate", "毕业日期"],
];
const QUALIFICATION = [
  ["level", "资格级别", "qualificationLevels"], ["type", "资格类别", "qualificationTypes"],
  ["acquisitionMethod", "取得方式", "acquisitionMethods"], ["acquiredOn", "取得日期"],
  ["appointedPost", "聘任职务", "appointedPosts"], ["appointedOn", "聘任日期"], ["certificateNumber", "证书编号"],
];
export const ATTACHMENTS = {
  ID_PHOTO: "证件照", CREDIT_CODE_CERTIFICATE: "营业执照（信用代码证）", FIRST_EMPLOYER_PROOF: "首次从事会计工作单位证明",
  CURRENT_EMPLOYER_PROOF: "现工作单位证明", FULL_TIME_DIPLOMA: "全日制毕业证书", FULL_TIME_DEGREE: "全日制学位证书",
  PART_TIME_DIPLOMA: "非全日制毕业证书", PART_TIME_DEGREE: "非全日制学位证书", QUALIFICATION_CERTIFICATE: "专业技术资格证书",
};
const SECTIONS = {
  basicInfo: "基本信息", workUnit: "工作单位", residence: "居住地", "education.fullTime": "全日制学历学位",
  "education.partTime": "非全日制学历学位", qualification: "专业技术资格",
};
const GENDER = { MALE: "男", FEMALE: "女" };

function labelFor(path) {
  if (path.startsWith("attachments.")) return ATTACHMENTS[path.slice(12)] ?? path;
  for (const [prefix, fields] of [["basicInfo", BASIC], ["workUnit", WORK], ["residence", RESIDENCE],
    ["education.fullTime", EDUCATION], ["education.partTime", EDUCATION], ["qualification", QUALIFICATION]]) {
    if (path === prefix) return SECTIONS[prefix];
    if (path.startsWith(`${prefix}.`)) {
      const key = path.slice(prefix.length + 1).replace(/Code$/, "");
      const found = fields.find(([name]) => name === key || name === path.slice(prefix.length + 1));
      return `${SECTIONS[prefix]} · ${found ? found[1] : key}`;
    }
  }
  return path;
}

function display(value, list, reference) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object" && "code" in value) {
    const named = list && reference.formOptions[list]?.find((o) => o.code === value.code);
    return `${named?.name ?? value.name ?? value.code}（${value.code}）`;
  }
  if (list === "genders") return GENDER[value] ?? value;
  return String(value);
}

function plain(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return value.name ?? value.code ?? JSON.stringify(value);
  return String(value);
}

export async function renderCase(main, id, reference) {
  mount(main, h("p", { class: "muted" }, "加载中…"));
  const { registration } = await request("ConsoleRegistration", { id });
  if (!registration) {
    mount(main, h("section", { class: "card" }, h("h2", {}, "找不到这条登记"),
      h("p", {}, "它不存在，或不属于您所在的会计管理部门。"), h("a", { href: "#/queue" }, "返回队列")));
    return;
  }
  const view = new CaseView(main, registration, reference);
  view.render();
}

class CaseView {
  constructor(main, registration, reference) {
    this.main = main;
    this.r = registration;
    this.reference = reference;
    this.items = new Map(); // path -> { reasonCode, note }
    this.changed = new Set((registration.changesSinceLastSubmission ?? []).map((c) => c.field));
  }

  fieldRow(path, label, value) {
    const reviewable = this.r.status === "SUBMITTED";
    const changed = [...this.changed].some((c) => c === path || path.startsWith(`${c}.`));
    return [
      h("dt", { class: changed ? "changed" : null }, label),
      h("dd", { class: changed ? "changed" : null, "data-field": path }, value,
        changed ? h("span", { class: "pick" }, "（本次修改）") : null,
        h("div", { class: "error-text", "data-error-for": path })),
      h("dd", {}, reviewable ? h("label", { class: "pick" },
        h("input", { type: "checkbox", "data-return": path, checked: this.items.has(path),
          onchange: (e) => this.toggleItem(path, e.target.checked) }), "退回修改") : ""),
    ];
  }

  section(prefix, fields, data) {
    if (!data) return null;
    const reviewable = this.r.status === "SUBMITTED";
    return h("section", { class: "card", "data-section": prefix },
      h("h2", {}, SECTIONS[prefix], reviewable ? h("label", { class: "pick" },
        h("input", { type: "checkbox", "data-return": prefix, checked: this.items.has(prefix),
          onchange: (e) => this.toggleItem(prefix, e.target.checked) }), "整节退回") : null),
      h("dl", { class: "fields" }, fields.map(([key, label, list]) => {
        const path = key === "officeDivision" ? `${prefix}.officeDivisionCode`
          : key === "division" ? `${prefix}.divisionCode` : `${prefix}.${key}`;
        return this.fieldRow(path, label, display(data[key], list, this.reference));
      })));
  }

  attachments() {
    const reviewable = this.r.status === "SUBMITTED";
    return h("section", { class: "card", "data-section": "attachments" }, h("h2", {}, "证明材料"),
      h("div", { class: "thumbs" }, this.r.attachments.map((a) => {
        const path = `attachments.${a.kind}`;
        const image = a.previewUrl ? h("img", { src: a.previewUrl, alt: ATTACHMENTS[a.kind], "data-kind": a.kind, loading: "lazy",
          onclick: () => zoom(a.url ?? a.previewUrl) }) : h("span", { class: "muted" }, "无预览");
        return h("figure", { class: `thumb${this.changed.has(path) ? " changed" : ""}`, "data-field": path }, image,
          h("span", {}, ATTACHMENTS[a.kind], `（${a.width}×${a.height}）`),
          a.problems.map((p) => h("span", { class: "finding" }, p.message)),
          h("span", { class: "error-text", "data-error-for": path }),
          reviewable && h("label", { class: "pick" }, h("input", { type: "checkbox", "data-return": path,
            onchange: (e) => this.toggleItem(path, e.target.checked) }), "退回重传"));
      }),
      this.r.requiredAttachments.filter((a) => a.required && !a.satisfied)
        .map((a) => h("p", { class: "error-text" }, `缺少：${ATTACHMENTS[a.kind]}`))));
  }

  toggleItem(path, on) {
    if (on) this.items.set(path, { reasonCode: "", note: "" });
    else this.items.delete(path);
    this.renderItems();
    if (on && !REASONS.has(path)) {
      reasonsFor(path).then(() => this.renderItems(), () => {});
    }
  }

  findings() {
    const seen = new Set();
    const all = [...this.r.problems, ...this.r.attachments.flatMap((a) => a.problems)]
      .filter((p) => !seen.has(`${p.field}:${p.code}`) && seen.add(`${p.field}:${p.code}`));
    return h("section", { class: "card", "data-section": "findings" }, h("h2", {}, `需核实的事项（${all.length}）`),
      all.length ? all.map((p) => h("div", {},
        h("label", {}, h("input", { type: "checkbox", "data-finding": p.field }),
          h("b", {}, labelFor(p.field)), "：", h("span", { class: "finding" }, p.message)),
        h("div", { class: "error-text", "data-error-for": p.field })))
        : h("p", { class: "muted" }, "系统未发现需要核实的事项。"));
  }

  changes() {
    const list = this.r.changesSinceLastSubmission;
    if (list === null || list === undefined) return h("section", { class: "card" }, h("h2", {}, "与上次提交相比"), h("p", { class: "muted" }, "首次提交。"));
    return h("section", { class: "card", "data-section": "changes" }, h("h2", {}, `与上次提交相比（${list.length} 处修改）`),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "项目"), h("th", {}, "原内容"), h("th", {}, "新内容"))),
        h("tbody", {}, list.map((c) => h("tr", {}, h("td", {}, labelFor(c.field)), h("td", {}, plain(c.old)), h("td", {}, plain(c.new)))))));
  }

  history() {
    const trail = this.r.auditTrail ?? [];
    return h("section", { class: "card", "data-section": "history" }, h("h2", {}, "办理记录"),
      h("ul", { class: "timeline" }, trail.map((e) => h("li", {},
        h("b", {}, when(e.occurredAt)), " ", KIND[e.kind] ?? e.kind, " · ",
        e.actor ? e.actor.displayName : ACTOR[e.actorKind] ?? e.actorKind,
        e.comment ? `：${e.comment}` : "",
        e.items.map((i) => h("div", { class: "muted" }, `${labelFor(i.field)}：${i.reason.name}${i.note ? `（${i.note}）` : ""}`))))));
  }

  actions() {
    if (this.r.status !== "SUBMITTED") {
      return h("section", { class: "card" }, h("h2", {}, "审核"), h("p", {}, "当前状态：", statusTag(this.r.status), "，无需审核。"));
    }
    this.itemsBox = h("div", { class: "items", "data-items": "" });
    return h("section", { class: "card", "data-section": "review" }, h("h2", {}, "审核"),
      h("div", { class: "error-text", "data-error-for": "expectedVersion" }),
      h("div", { class: "error-text", "data-error-for": "registrationId" }),
      h("label", {}, "审核意见", h("textarea", { name: "comment", rows: 2, cols: 36, maxlength: 500 })),
      h("div", { class: "error-text", "data-error-for": "comment" }),
      h("h3", {}, "退回事项（在左侧勾选“退回修改”）"), this.itemsBox,
      h("div", { class: "error-text", "data-error-for": "items" }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", "data-action": "approve", onclick: () => this.approve() }, "审核通过"),
        h("button", { type: "button", "data-action": "return", onclick: () => this.return() }, "退回修改")));
  }

  forward() {
    if (this.r.status !== "SUBMITTED") return null;
    return forwardForm(this.r, this.reference, () => renderCase(this.main, this.r.id, this.reference));
  }

  renderItems() {
    if (!this.itemsBox) return;
    mount(this.itemsBox, [...this.items.entries()].map(([path, item], index) => {
      const reasons = REASONS.get(path) ?? [];
      return h("div", { "data-item": path },
        h("div", { class: "item" }, h("span", {}, labelFor(path)),
          h("select", { "data-reason": path, "data-loaded": REASONS.has(path) ? "" : null,
            onchange: (e) => { item.reasonCode = e.target.value; } },
            h("option", { value: "" }, REASONS.has(path) ? "请选择退回原因" : "加载中…"),
            reasons.map((r) => h("option", { value: r.code, selected: r.code === item.reasonCode }, r.name))),
          h("input", { placeholder: "说明（选“其他”时必填）", value: item.note, "data-note": path,
            oninput: (e) => { item.note = e.target.value; } })),
        h("div", { class: "error-text", "data-error-for": `items.${index}` }));
    }));
    if (!this.items.size) this.itemsBox.append(h("p", { class: "muted" }, "尚未选择。"));
  }

  render() {
    const r = this.r;
    const basic = r.basicInfo ?? {};
    mount(this.main,
      h("p", {}, h("a", { href: "#/queue" }, "← 返回队列")),
      h("section", { class: "card" },
        h("h2", {}, `${basic.name ?? ""} 的会计人员信息登记 `, statusTag(r.status)),
        h("p", { class: "muted" }, `会计管理部门：${r.accountingDepartment?.name ?? "—"} · 提交于 ${when(r.submittedAt)} · 版本 ${r.version}`)),
      h("div", { class: "case" },
        h("div", {},
          this.section("basicInfo", BASIC, r.basicInfo),
          this.section("workUnit", WORK, r.workUnit),
          this.section("residence", RESIDENCE, r.residence),
          this.section("education.fullTime", EDUCATION, r.education?.fullTime),
          this.section("education.partTime", EDUCATION, r.education?.partTime),
          this.section("qualification", QUALIFICATION, r.qualification),
          this.attachments()),
        h("div", {}, this.actions(), this.forward(), this.findings(), this.changes(), this.history())));
    this.renderItems();
  }

  showErrors(errors) {
    for (const slot of this.main.querySelectorAll("[data-error-for]")) slot.textContent = "";
    for (const error of errors) {
      const field = error.field.replace(/^input\./, "");
      const index = /^items\.(\d+)/.exec(field);
      const target = this.main.querySelector(`[data-error-for="${CSS.escape(field)}"]`)
        ?? (index && this.main.querySelector(`[data-error-for="items.${index[1]}"]`))
        ?? this.main.querySelector('[data-error-for="registrationId"]');
      target.textContent = `${target.textContent} ${error.message}`.trim();
      if (error.code === "VERSION_CONFLICT") {
        target.append(" ", h("button", { type: "button", onclick: () => renderCase(this.main, this.r.id, this.reference) }, "重新加载"));
      }
    }
  }

  comment() {
    const value = this.main.querySelector('textarea[name="comment"]').value.trim();
    return value || null;
  }

  async approve() {
    const checkedFields = [...this.main.querySelectorAll("[data-finding]:checked")].map((box) => box.dataset.finding);
    const input = { registrationId: this.r.id, expectedVersion: this.r.version, comment: this.comment(), checkedFields };
    await this.decide("ConsoleApprove", "approveRegistration", input, "已审核通过。");
  }

  async return() {
    const items = [...this.items.entries()].map(([field, item]) => ({ field, reasonCode: item.reasonCode, note: item.note || null }));
    const input = { registrationId: this.r.id, expectedVersion: this.r.version, comment: this.comment(), items };
    await this.decide("ConsoleReturn", "returnRegistration", input, "已退回申请人修改。");
  }

  async decide(name, field, input, done) {
    for (const button of this.main.querySelectorAll("[data-action]")) button.disabled = true;
    try {
      const payload = (await request(name, { input }))[field];
      if (payload.errors.length) {
        this.showErrors(payload.errors);
        return;
      }
      notice(done);
      await renderCase(this.main, this.r.id, this.reference);
    } catch (error) {
      this.showErrors([{ field: "registrationId", message: error.message }]);
    } finally {
      for (const button of this.main.querySelectorAll("[data-action]")) button.disabled = false;
    }
  }
}

// the reasons that fit a field or attachment path (returnReasons(field:)), fetched once per path
const REASONS = new Map();

async function reasonsFor(path) {
  if (!REASONS.has(path)) REASONS.set(path, (await request("ConsoleReturnReasonsFor", { field: path })).returnReasons);
  return REASONS.get(path);
}

const KIND = { STARTED: "开始填写", SUBMITTED: "提交", RESUBMITTED: "重新提交", RETURNED: "退回修改", APPROVED: "审核通过", WITHDRAWN: "撤回", READ: "查阅", FORWARDED: "转办", CREATED: "创建" };
const ACTOR = { APPLICANT: "申请人", STAFF: "工作人员", SYSTEM: "系统" };

function zoom(src) {
  const box = document.getElementById("zoom");
  document.getElementById("zoom-img").src = src;
  box.hidden = false;
  box.onclick = () => { box.hidden = true; };
}
