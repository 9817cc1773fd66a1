import { request, resume, session, signOut, subscribeQueue, SessionEnded } from "./js/api.js";
import { renderCase } from "./js/case.js";
import { renderDashboard } from "./js/dashboard.js";
import { h, mount, notice } from "./js/dom.js";
import { renderLogin } from "./js/login.js";
import { renderQueue } from "./js/queue.js";

const main = document.getElementById("main");
const badge = document.getElementById("badge");
let reference = null;
let config = { devLogin: false };
let stopQueue = null;
let arrivals = 0;

function showBadge() {
  badge.textContent = String(arrivals);
  badge.hidden = arrivals === 0;
  badge.dataset.count = String(arrivals);
}

function header() {
  const who = document.getElementById("who");
  const nav = document.getElementById("nav");
  const viewer = session.viewer;
  nav.hidden = !viewer;
  if (!viewer) {
    mount(who);
    return;
  }
  mount(who, h("span", {}, `${viewer.name ?? viewer.username ?? ""} · ${viewer.department?.name ?? "全省"}`),
    h("button", { type: "button", "data-action": "logout", onclick: () => signOut() }, "退出登录"));
}

async function route() {
  header();
  if (!session.accessToken) {
    renderLogin(main, config.devLogin);
    return;
  }
  let [, page, id] = location.hash.split("/");
  const dashboardOnly = session.viewer?.role === "DASHBOARD";
  document.querySelector('[data-nav="queue"]').hidden = dashboardOnly;
  if (dashboardOnly) page = "dashboard";
  for (const link of document.querySelectorAll("[data-nav]")) link.classList.toggle("active", link.dataset.nav === (page || "queue"));
  try {
    reference ??= await request("ConsoleReferenceData");
    if (page === "case" && id) await renderCase(main, id, reference);
    else if (page === "dashboard") await renderDashboard(main, reference);
    else {
      arrivals = 0;
      showBadge();
      await renderQueue(main, reference);
    }
  } catch (error) {
    if (!(error instanceof SessionEnded)) mount(main, h("section", { class: "card" }, h("p", { class: "error-text" }, error.message)));
  }
}

function onQueueEvent(event) {
  if (event.kind === "SUBMITTED" || event.kind === "RESUBMITTED" || event.kind === "FORWARDED_IN") {
    arrivals += 1;
    showBadge();
    notice(`有新的登记进入队列（${arrivals} 条），打开“待审队列”查看。`);
  }
}

session.listeners.add((event) => {
  if (event.type === "signed-in") {
    notice("");
    stopQueue ??= subscribeQueue(onQueueEvent);
    if (!main.dataset.page) route();
  } else if (event.type === "signed-out") {
    stopQueue?.();
    stopQueue = null;
    reference = null;
    arrivals = 0;
    showBadge();
    notice(event.reason ?? "登录已结束，请重新登录。", "error");
    route();
  }
});

document.getElementById("export").addEventListener("click", async () => {
  try {
    const { registrationExport: e } = await request("ConsoleExport", {});
    if (e.errors.length) notice(e.errors.map((x) => x.message).join("；"), "error");
    else location.assign(e.url);
  } catch (error) {
    notice(error.message, "error");
  }
});

window.addEventListener("hashchange", route);

(async () => {
  config = await fetch("config.json").then((r) => r.json()).catch(() => config);
  main.dataset.page = "starting";
  await resume().catch(() => false);
  delete main.dataset.page;
  await route();
})();
