// An environment's Deployment History, newest first, with where promoted images came from.
import { gql } from "./api.js";
import { badge, clear, h, pageTitle, when } from "./dom.js";
import { promotedFromText } from "./deploy.js";
import { pagedList } from "./pager.js";
import { debounced, live, liveIndicator } from "./live.js";
import { href } from "./router.js";

const HISTORY = `query($app: String!, $env: String!, $after: String) {
  deploymentHistory(application: $app, environment: $env, first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node {
      id status createdAt error image { tag image } deployedBy { name }
      promotedFrom { sourceType sourceEnvironment requestId approvers { name } } } } } }`;
const CHANGED = `subscription($app: String, $env: String) {
  deploymentChanged(application: $app, environment: $env) { action } }`;

export async function renderHistory(view, { app, env }) {
  const body = h("div");
  const liveState = liveIndicator();
  clear(view, pageTitle(h("a", { href: "#/" }, "Applications"),
    h("a", { href: href("apps", app) }, app), env, "Deployment History"),
  h("p", { class: "subnav" },
    h("a", { href: href("apps", app, "envs", env, "deploy") }, "Select Image to deploy"),
    liveState),
  body);
  const show = () => pagedList({
    container: body,
    empty: `Nothing has been deployed to ${env} yet.`,
    load: async (after) => (await gql(HISTORY, { app, env, after })).deploymentHistory,
    renderNode: (d, list) => list.append(historyRow(d, env)),
  });
  // Live: a deployment made or changing status, or a stage reported, reloads the list.
  live(liveState, CHANGED, { app, env }, debounced(() => show()));
  await show();
}

function historyRow(d, env) {
  return h("div", { class: "history-row", "data-deployment": d.id },
    h("div", { class: "history-when" }, when(d.createdAt)),
    h("div", { class: "grow" },
      h("div", {}, h("strong", { title: d.image.image }, d.image.tag), " ",
        badge(d.status, d.status.toLowerCase()), " ",
        h("span", { class: "muted" }, "by ", d.deployedBy ? d.deployedBy.name
          : "Hoist (automatic)")),
      h("div", { class: "small promoted" },
        d.promotedFrom ? promotedFromText(d.promotedFrom, env) : "normal path (not promoted)"),
      d.error && h("div", { class: "error small" }, d.error)));
}
