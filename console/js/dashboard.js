import { request, session } from "./api.js";
import { h, mount, statusName, when } from "./dom.js";

// Suppressed cells ('<5', '*') are drawn as 0-height bars labelled with their display text.
const value = (cell) => (cell.suppressed ? 0 : cell.count ?? 0);
const charts = [];

function chart(element, option) {
  const instance = window.echarts.init(element, null, { renderer: "canvas" });
  instance.setOption({ animation: false, grid: { left: 48, right: 16, top: 32, bottom: 48 }, tooltip: { trigger: "axis" }, ...option });
  charts.push(instance);
  element.dataset.option = JSON.stringify(option.series.map((s) => s.data.map((d) => (typeof d === "object" ? d.label?.formatter ?? d.value : d))));
  return instance;
}

function bars(categories, cells, name, color) {
  return {
    xAxis: { type: "category", data: categories, axisLabel: { interval: 0, rotate: categories.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name, type: "bar", itemStyle: { color },
      data: cells.map((cell) => ({ value: value(cell), label: { show: true, position: "top", formatter: cell.display } })) }],
  };
}

// waiting and returned stacked per department; each bar labelled with its display text ('<5', '*')
function stacked(rows) {
  const part = (name, key, color) => ({ name, type: "bar", stack: "backlog", itemStyle: { color },
    data: rows.map((row) => ({ value: value(row[key]), label: { show: true, position: "inside", formatter: row[key].display } })) });
  return {
    legend: { top: 0 },
    xAxis: { type: "category", data: rows.map((row) => row.department.name), axisLabel: { interval: 0, rotate: rows.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [part("待审核", "waiting", "#f0a020"), part("已退回待修改", "returned", "#b0282d")],
  };
}

function box(key, title, cells) {
  return h("section", { class: "card" }, h("h2", {}, title),
    h("div", { class: "chart", "data-chart": key }),
    h("div", { class: "cells", "data-cells": key }, cells));
}

let cityCode = "";

function cityFilter(main, reference) {
  return h("label", {}, "地市", h("select", { name: "statsCity", onchange: (e) => {
    cityCode = e.target.value;
    renderDashboard(main, reference);
  } }, h("option", { value: "" }, "全省"),
  reference.divisions.map((d) => h("option", { value: d.code, selected: d.code === cityCode }, d.name))));
}

export async function renderDashboard(main, reference) {
  for (const instance of charts.splice(0)) instance.dispose();
  mount(main, h("p", { class: "muted" }, "加载中…"));
  const province = session.viewer?.role !== "REVIEWER";
  const filter = province && cityCode ? { cityCode } : {};
  const { registrationStats: s } = await request("ConsoleStats", { filter });
  if (s.errors.length) {
    mount(main, h("section", { class: "card" }, s.errors.map((e) => h("p", { class: "error-text" }, e.message))));
    return;
  }
  const scope = s.scope?.department?.name ?? s.scope?.city?.name ?? "全省";
  const rate = s.firstPassApprovalRate === null ? "—" : `${Math.round(s.firstPassApprovalRate * 100)}%`;
  const hours = (x) => (x === null || x === undefined ? "—" : `${x.toFixed(1)} 小时`);
  // the province and city bureaus see their departments side by side; a county sees only itself
  const byDepartment = province || s.backlogByDepartment.length > 1;
  mount(main,
    h("section", { class: "card" }, h("h2", {}, `统计看板 · ${scope}（${s.from} 至 ${s.to}）`),
      province ? cityFilter(main, reference) : null,
      h("div", { class: "figures" },
        h("div", { class: "figure" }, "登记总数", h("b", { "data-figure": "total" }, s.totalDisplay)),
        h("div", { class: "figure" }, "审核用时中位数", h("b", { "data-figure": "median" }, hours(s.turnaroundHours.median))),
        h("div", { class: "figure" }, "审核用时 P90", h("b", { "data-figure": "p90" }, hours(s.turnaroundHours.p90))),
        h("div", { class: "figure" }, "首次通过率", h("b", { "data-figure": "firstPass" }, rate))),
      h("p", { class: "muted" }, `少于 ${s.minimumGroupSize} 人的格子显示为“<${s.minimumGroupSize}”，可被推算的格子显示为“*”。`)),
    h("div", { class: "charts" },
      box("byStatus", "各状态登记数", s.byStatus.map((c) => `${statusName(c.status)} ${c.display}`).join("　")),
      box("daily", "每日提交与审结", ""),
      box("backlog", "待审积压（按等待天数）", s.backlogByAge.map((c) => `${c.label} ${c.display}`).join("　")),
      province ? box("byDepartment", "各会计管理部门登记数", "") : null,
      byDepartment ? box("backlogByDepartment", "各会计管理部门积压（待审核 / 已退回）", s.backlogByDepartment.map((c) =>
        `${c.department.name} ${c.waiting.display}/${c.returned.display}${c.oldestWaitingSince ? `（最早 ${when(c.oldestWaitingSince)}）` : ""}`).join("　")) : null,
      box("returns", "退回原因", s.returnsByReason.map((c) => `${c.reason.name} ${c.display}`).join("　") || "无退回")));
  const q = (key) => main.querySelector(`[data-chart="${key}"]`);
  chart(q("byStatus"), bars(s.byStatus.map((c) => statusName(c.status)), s.byStatus, "登记数", "#b0282d"));
  chart(q("daily"), {
    legend: { top: 0 },
    xAxis: { type: "category", data: s.daily.map((d) => d.date.slice(5)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "提交", type: "line", data: s.daily.map((d) => ({ value: d.submitted ?? 0, label: { show: d.submittedDisplay !== "0", formatter: d.submittedDisplay } })) },
      { name: "审结", type: "line", data: s.daily.map((d) => ({ value: d.decided ?? 0, label: { show: d.decidedDisplay !== "0", formatter: d.decidedDisplay } })) },
    ],
  });
  chart(q("backlog"), bars(s.backlogByAge.map((c) => c.label), s.backlogByAge, "待审", "#f0a020"));
  if (province) chart(q("byDepartment"), bars(s.byDepartment.map((c) => c.department.name), s.byDepartment, "登记数", "#1d5fd6"));
  if (byDepartment) chart(q("backlogByDepartment"), stacked(s.backlogByDepartment));
  const returns = bars(s.returnsByReason.map((c) => c.reason.name), s.returnsByReason, "退回次数", "#8a5cd6");
  returns.series[0].data.forEach((d) => { d.label.position = "right"; });
  chart(q("returns"), { ...returns, grid: { left: 200, right: 40, top: 16, bottom: 24 },
    xAxis: returns.yAxis, yAxis: { ...returns.xAxis, inverse: true, axisLabel: { width: 190, overflow: "truncate" } } });
}

window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
