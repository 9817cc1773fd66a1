// Small DOM helpers: elements built with textContent only (no HTML strings, no inline styles).

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function mount(target, ...children) {
  target.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

const STATUS = {
  DRAFT: "草稿", SUBMITTED: "待审核", RETURNED: "已退回", APPROVED: "已通过", WITHDRAWN: "已撤回",
  SUPERSEDED: "已被变更", FORWARDED: "已转办",
};
export const statusName = (status) => STATUS[status] ?? status;
export const statusTag = (status) => h("span", { class: `status status-${status}` }, statusName(status));

const FMT = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit",
});
export const when = (value) => (value ? FMT.format(new Date(value)) : "—");

export function notice(text, kind = "info") {
  const box = document.getElementById("notice");
  box.textContent = text ?? "";
  box.className = kind === "error" ? "notice error" : "notice";
  box.hidden = !text;
}
