import { signIn } from "./api.js";
import { h, mount } from "./dom.js";

function errorsInto(form, errors) {
  for (const node of form.querySelectorAll(".error-text")) node.textContent = "";
  for (const error of errors) {
    const key = error.field.split(".").pop();
    const slot = form.querySelector(`[data-error="${key}"]`) ?? form.querySelector('[data-error=""]');
    slot.textContent = error.message;
  }
}

function loginForm(title, name, fields, toInput) {
  const form = h("form", { class: "card", "data-form": name },
    h("h2", {}, title),
    fields.map(([key, label, type, value]) =>
      h("label", {}, label,
        h("input", { name: key, type, value: value ?? "", autocomplete: type === "password" ? "current-password" : "off", required: true }),
        h("span", { class: "error-text", "data-error": key }))),
    h("span", { class: "error-text", "data-error": "" }),
    h("button", { class: "primary", type: "submit" }, "登录"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      errorsInto(form, await signIn(name, toInput(new FormData(form))));
    } catch (error) {
      errorsInto(form, [{ field: "", message: error.message }]);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function renderLogin(main, devLogin) {
  const staff = loginForm("工作人员登录", "ConsoleStaffLogin",
    [["username", "用户名", "text"], ["password", "密码", "password"]],
    (data) => ({ username: data.get("username"), password: data.get("password") }));
  const dev = devLogin && loginForm("开发登录（仅开发环境）", "ConsoleDevLogin",
    [["name", "姓名", "text", "审核员"], ["reviewerDepartmentCode", "会计管理部门代码", "text", "330102"]],
    (data) => ({ name: data.get("name"), reviewerDepartmentCode: data.get("reviewerDepartmentCode") }));
  mount(main, h("div", { class: "login" }, staff, dev));
}
