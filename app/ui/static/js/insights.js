// Insights: an application's delivery figures per ISO week (deliveryInsights), as charts
// drawn in the page (charts.js) and as figures, for an application, an environment (or
// all) and a range of days picked from the controls.
import { gql } from "./api.js";
import { clear, errorSlot, h, loading, pageTitle, showError } from "./dom.js";
import { legend, lineChart, stackedBars } from "./charts.js";
import { href } from "./router.js";

const FIGURES = `leadTime { samples p50Seconds p90Seconds }
  approvalWait { samples p50Seconds p90Seconds }
  promotions { status count } promotionCount skippedStages skipShare
  deployments rolledBack rollbackShare`;
const INSIGHTS = `query($app: String!, $env: String, $from: DateTime!, $to: DateTime!) {
  deliveryInsights(application: $app, environment: $env, from: $from, to: $to) {
    weeks { weekStart figures { ${FIGURES} } } total { ${FIGURES} } } }`;
const DAY = 86400000;
// Bottom to top in the bars; the open states last.
const OUTCOMES = ["PROMOTED", "REJECTED", "CANCELLED", "EXPIRED", "STALE", "QUEUED", "PROMOTING",
  "AWAITING_APPROVAL"];
const DURATION_STEPS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800,
  345600, 604800];

const isoDay = (date) => date.toISOString().slice(0, 10);
const label = (status) => status.toLowerCase().replace(/_/g, " ");
const percent = (share) => (share === null ? "—" : `${Math.round(share * 1000) / 10} %`);

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const units = [[86400, "d"], [3600, "h"], [60, "min"]];
  for (const [size, unit] of units) {
    if (seconds >= size) {
      const value = seconds / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${Math.round(seconds)} s`;
}

export async function renderInsights(view, { app } = {}) {
  clear(view, pageTitle("Insights"), loading());
  const { applications, environments } = await gql(`{ applications { name }
    environments { name production } }`);
  if (!applications.length) {
    clear(view, pageTitle("Insights"), h("p", { class: "muted empty" },
      "No applications yet, or none you hold a role on."));
    return;
  }
  const until = new Date();
  const controls = {
    app: h("select", { id: "insights-app" }, applications.map((a) =>
      h("option", { value: a.name, selected: a.name === (app ?? applications[0].name) }, a.name))),
    env: h("select", { id: "insights-env" }, h("option", { value: "" }, "All environments"),
      environments.map((e) => h("option", { value: e.name, selected: e.production }, e.name))),
    from: h("input", { id: "insights-from", type: "date",
      value: isoDay(new Date(until.getTime() - 83 * DAY)) }),
    until: h("input", { id: "insights-until", type: "date", value: isoDay(until) }),
  };
  const error = errorSlot();
  const body = h("div", { class: "insights-body", "aria-live": "polite" });
  const show = h("button", { class: "primary", type: "submit" }, "Show");
  const form = h("form", { class: "insights-controls card", onsubmit: (event) => {
    event.preventDefault();
    load();
  } },
  field("Application", controls.app), field("Environment", controls.env),
  field("From", controls.from), field("Until (included)", controls.until), show, error);
  clear(view, pageTitle(h("a", { href: "#/" }, "Applications"), "Insights"),
    h("p", { class: "subnav muted" }, "Weeks run Monday to Sunday, in UTC. ",
      h("a", { href: href("insights") }, "Reset")), form, body);

  async function load() {
    error.textContent = "";
    const from = controls.from.value;
    const last = controls.until.value;
    if (!from || !last) return showError(error, "Pick the first and the last day.");
    const variables = {
      app: controls.app.value, env: controls.env.value || null,
      from: `${from}T00:00:00Z`, to: `${isoDay(new Date(Date.parse(last) + DAY))}T00:00:00Z`,
    };
    clear(body, loading());
    try {
      const { deliveryInsights } = await gql(INSIGHTS, variables);
      renderFigures(body, deliveryInsights, variables);
    } catch (problem) {
      clear(body);
      showError(error, problem);
    }
  }
  await load();
}

const field = (text, control) => h("label", { class: "insights-field" },
  h("span", {}, text), control);

function renderFigures(body, insights, { app, env }) {
  const { weeks, total } = insights;
  const labels = weeks.map((w) => w.weekStart);
  const where = `${app}, ${env ?? "all environments"}`;
  const leadChart = lineChart({
    title: `Lead time per week (${where})`,
    description: "Commit to running: the median (p50) and 90th percentile (p90) per week.",
    labels, format: duration, steps: DURATION_STEPS,
    series: [
      { name: "p50", className: "p50", values: weeks.map((w) => w.figures.leadTime.p50Seconds) },
      { name: "p90", className: "p90", values: weeks.map((w) => w.figures.leadTime.p90Seconds) },
    ],
  });
  const stacks = OUTCOMES.map((status) => ({
    name: status, className: `status-${status.toLowerCase()}`,
    values: weeks.map((w) => w.figures.promotions.find((p) => p.status === status)?.count ?? 0),
  }));
  const shown = stacks.filter((s) => s.values.some((v) => v > 0));
  const barChart = stackedBars({
    title: `Promotions per week by outcome (${where})`,
    description: "Promotion requests created each week, stacked by the state they are in now.",
    labels, stacks,
  });
  clear(body,
    h("div", { class: "figures" },
      figure("lead-p50", "Lead time p50", duration(total.leadTime.p50Seconds),
        `${total.leadTime.samples} deployment(s) measured`),
      figure("lead-p90", "Lead time p90", duration(total.leadTime.p90Seconds)),
      figure("approval-wait", "Approval wait p50 / p90",
        `${duration(total.approvalWait.p50Seconds)} / ${duration(total.approvalWait.p90Seconds)}`,
        `${total.approvalWait.samples} request(s) approved`),
      figure("skip-share", "Promotions skipping stages", percent(total.skipShare),
        `${total.skippedStages} of ${total.promotionCount}`),
      figure("rollback-share", "Deployments rolled back", percent(total.rollbackShare),
        `${total.rolledBack} of ${total.deployments}`)),
    h("div", { class: "charts" },
    h("section", { class: "card chart-card", "aria-label": "Lead time per week" },
      h("h2", {}, "Lead time per week"), leadChart,
      legend([{ name: "p50", className: "p50" }, { name: "p90", className: "p90" }])),
    h("section", { class: "card chart-card", "aria-label": "Promotions per week" },
      h("h2", {}, "Promotions per week by outcome"), barChart,
      shown.length ? legend(shown.map((s) => ({ name: label(s.name), className: s.className })))
        : h("p", { class: "muted" }, "No promotion requests in this range."))),
    weekTable(weeks));
}

const figure = (key, name, value, note) => h("div", { class: "figure card", "data-figure": key },
  h("div", { class: "figure-name" }, name), h("div", { class: "figure-value" }, value),
  note && h("div", { class: "small muted" }, note));

// The same numbers as a table, for screen readers and for copying.
function weekTable(weeks) {
  return h("details", { class: "week-table" }, h("summary", {}, "Figures per week"),
    h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["Week of", "Lead p50", "Lead p90", "Approval p50",
        "Approval p90", "Promotions", "Skipping", "Deployments", "Rolled back"]
        .map((t) => h("th", {}, t)))),
      h("tbody", {}, weeks.map(({ weekStart, figures: f }) => h("tr", {},
        [weekStart, duration(f.leadTime.p50Seconds), duration(f.leadTime.p90Seconds),
          duration(f.approvalWait.p50Seconds), duration(f.approvalWait.p90Seconds),
          f.promotionCount, f.skippedStages, f.deployments, f.rolledBack]
          .map((v) => h("td", {}, v)))))));
}
