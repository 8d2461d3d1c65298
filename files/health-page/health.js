// Managed by louieops (files/health-page/health.js); local edits are overwritten on the next deploy.
// The System Health page: plots of the health check's KPI history (data.json, written by the health check on
// each run; louieops_history.py) over the last day or week, with their warning and critical levels, and the
// open alerts, the live release and the last backups. No library: SVG drawn from the data.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320, HEIGHT = 140, LEFT = 34, BOTTOM = 16;

function el(name, attributes, text) {
  const node = document.createElementNS(name.startsWith("svg:") ? SVG : "http://www.w3.org/1999/xhtml",
    name.replace("svg:", ""));
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function when(epoch) {
  return epoch ? new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never";
}

function size(bytes) {
  if (bytes == null) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function plot(data, kpi, title, unit, hours) {
  const end = data.generated, start = end - hours * 3600;
  const points = data.history.filter((line) => line.time >= start && line[kpi] != null);
  const levels = data.levels[kpi] || {};
  const figure = el("figure", { "data-kpi": kpi, "data-points": String(points.length) });
  const last = points.length ? points[points.length - 1][kpi] : null;
  const caption = el("figcaption", {}, title);
  caption.append(el("span", { class: "now" }, last == null ? "no data" : `${last}${unit ? " " + unit : ""}`));
  figure.append(caption);
  const svg = el("svg:svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title });
  figure.append(svg);
  if (!points.length) {
    svg.append(el("svg:text", { class: "empty", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" },
      "no measurements in this window"));
    return figure;
  }
  const marks = [levels.warning, levels.critical].filter((v) => typeof v === "number");
  const top = Math.max(...points.map((p) => p[kpi]), ...marks, 1) * 1.1;
  // a history shorter than the window (a new server) spans the plot, from its first run
  const from = Math.min(Math.max(start, points[0].time), end - 60);
  const x = (t) => LEFT + ((t - from) / (end - from)) * (WIDTH - LEFT - 4);
  const y = (v) => HEIGHT - BOTTOM - (v / top) * (HEIGHT - BOTTOM - 6);
  for (const [name, value] of [["warning", levels.warning], ["critical", levels.critical]]) {
    if (typeof value !== "number") continue;
    svg.append(el("svg:line", { class: name, x1: LEFT, x2: WIDTH - 4, y1: y(value), y2: y(value) }));
  }
  svg.append(el("svg:text", { class: "axis", x: 2, y: 12 }, top.toFixed(top < 10 ? 1 : 0)));
  svg.append(el("svg:text", { class: "axis", x: 2, y: HEIGHT - BOTTOM }, "0"));
  svg.append(el("svg:text", { class: "axis", x: LEFT, y: HEIGHT - 3 }, when(from)));
  svg.append(el("svg:text", { class: "axis", x: WIDTH - 4, y: HEIGHT - 3, "text-anchor": "end" }, "now"));
  const line = points.map((p) => `${x(p.time).toFixed(1)},${y(p[kpi]).toFixed(1)}`).join(" ");
  svg.append(el("svg:polyline", { class: "line", points: points.length === 1 ? `${line} ${line}` : line }));
  if (points.length <= 300) {  // each run as a dot too, while they are few enough to tell apart
    for (const p of points) svg.append(el("svg:circle", { class: "dot", cx: x(p.time), cy: y(p[kpi]), r: 2 }));
  }
  return figure;
}

function render(data, hours) {
  document.getElementById("host").textContent = data.host;
  document.getElementById("generated").textContent =
    `${data.history.length} health-check runs kept; the last at ${when(data.generated)}`;
  const plots = document.getElementById("plots");
  // which KPIs, their titles and units: the deploy's (louieops/server_scripts.py HEALTH_PAGE_PLOTS)
  plots.replaceChildren(...data.plots.map(([kpi, title, unit]) => plot(data, kpi, title, unit, hours)));
  const alerts = document.querySelector("#alerts tbody");
  const rows = data.alerts.map((a) => {
    const row = el("tr", { class: a.tier });
    row.append(el("td", {}, a.tier + (a.acked ? " (acked)" : "")), el("td", {}, when(a.since)), el("td", {}, a.message));
    return row;
  });
  if (!rows.length) {
    rows.push(el("tr", {}));
    rows[0].append(el("td", { colspan: "3" }, "none"));
  }
  alerts.replaceChildren(...rows);
  const release = data.release;
  document.getElementById("release").textContent = release
    ? `${release.id}: commit ${String(release.commit || "?").slice(0, 12)} (${release.ref || "?"}), gate ${release.gate || "?"}`
    : "no release is live";
  const backups = document.querySelector("#backups tbody");
  backups.replaceChildren(...data.backups.map((b) => {
    const row = el("tr", {});
    row.append(el("td", {}, b.kind), el("td", {}, when(b.time)), el("td", {}, size(b.size)));
    return row;
  }));
  document.body.dataset.generated = String(data.generated);
  document.body.dataset.rendered = String(hours);
}

async function main() {
  let data;
  try {
    const answer = await fetch("data.json", { cache: "no-store", credentials: "same-origin" });
    if (!answer.ok) throw new Error(`data.json answered ${answer.status}`);
    data = await answer.json();
  } catch (error) {
    document.getElementById("generated").textContent = `no data: ${error.message} (has the health check run?)`;
    document.body.dataset.rendered = "error";
    return;
  }
  const buttons = document.querySelectorAll("#window button");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      render(data, Number(button.dataset.hours));
    });
  }
  render(data, 24);
}

main();
