// An environment's Deployment History, newest first, with where promoted images came from,
// which deployment a rollback replaced, each git deployment's commit, and "Roll back to
// this" on the earlier images that succeeded there.
import { checkPayload, gql } from "./api.js";
import { badge, busy, clear, errorSlot, h, pageTitle, when } from "./dom.js";
import { promotedFromText } from "./deploy.js";
import { pagedList } from "./pager.js";
import { debounced, live, liveIndicator } from "./live.js";
import { href } from "./router.js";
import { can } from "./session.js";

const HISTORY = `query($app: String!, $env: String!, $after: String) {
  deploymentHistory(application: $app, environment: $env, first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node {
      id status createdAt error image { id tag image } deployedBy { name }
      rollbackOf { id createdAt image { tag } } commit { sha repository url }
      promotedFrom { sourceType sourceEnvironment requestId approvers { name } } } } } }`;
const CHANGED = `subscription($app: String, $env: String) {
  deploymentChanged(application: $app, environment: $env) { action } }`;
const ROLLBACK = `mutation($app: String!, $env: String!, $image: ID!) {
  rollbackDeployment(application: $app, environment: $env, toImage: $image) {
    deployment { id status image { tag } } errors { code message field } } }`;

export async function renderHistory(view, { app, env }) {
  const body = h("div");
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const liveState = liveIndicator();
  clear(view, pageTitle(h("a", { href: "#/" }, "Applications"),
    h("a", { href: href("apps", app) }, app), env, "Deployment History"),
  h("p", { class: "subnav" },
    h("a", { href: href("apps", app, "envs", env, "deploy") }, "Select Image to deploy"),
    liveState),
  notices, body);
  const show = () => {
    // The image there now is the newest SUCCEEDED deployment's, the first one met in the
    // list (pages come newest first, in order): the server's rollback rule, which decides.
    const seen = { current: null };
    return pagedList({
      container: body,
      empty: `Nothing has been deployed to ${env} yet.`,
      load: async (after) => (await gql(HISTORY, { app, env, after })).deploymentHistory,
      renderNode: (d, list) => {
        const current = seen.current;
        if (d.status === "SUCCEEDED" && current === null) seen.current = d.image.id;
        const offer = current !== null && d.status === "SUCCEEDED" && d.image.id !== current
          && can("BUILD_DEPLOY", app, env);
        list.append(historyRow(d, env, offer && { app, env, notices, reload: show }));
      },
    });
  };
  // Live: a deployment made or changing status, or a stage reported, reloads the list.
  live(liveState, CHANGED, { app, env }, debounced(() => show()));
  await show();
}

function historyRow(d, env, rollback) {
  return h("div", { class: "history-row", "data-deployment": d.id },
    h("div", { class: "history-when" }, when(d.createdAt)),
    h("div", { class: "grow" },
      h("div", {}, h("strong", { title: d.image.image }, d.image.tag), " ",
        badge(d.status, d.status.toLowerCase()), " ",
        h("span", { class: "muted" }, "by ", d.deployedBy ? d.deployedBy.name
          : "Hoist (automatic)")),
      d.rollbackOf && h("div", { class: "small rollback-of", "data-replaced": d.rollbackOf.id },
        "rollback of deployment of ", h("strong", {}, d.rollbackOf.image.tag), " (",
        when(d.rollbackOf.createdAt), ")"),
      h("div", { class: "small promoted" },
        d.promotedFrom ? promotedFromText(d.promotedFrom, env) : "normal path (not promoted)"),
      d.commit && commitLine(d.commit),
      d.error && h("div", { class: "error small" }, d.error)),
    rollback && rollbackControl(d, rollback));
}

// A git deployment's commit: the short SHA (a link to the forge's page when the API gives
// one), then the repository as the target named it.
export function commitLine(commit) {
  const sha = h("code", { title: commit.sha }, commit.sha.slice(0, 7));
  return h("div", { class: "small deployment-commit" }, "commit ",
    commit.url ? h("a", { href: commit.url, target: "_blank", rel: "noopener noreferrer" }, sha)
      : sha,
    " in ", h("span", { class: "code" }, commit.repository));
}

// "Roll back to this", then a confirmation naming the image; the outcome or the server's
// refusal shows next to it.
function rollbackControl(d, { app, env, notices, reload }) {
  const open = h("button", { class: "secondary rollback" }, "Roll back to this");
  const confirm = h("button", { class: "danger", hidden: true }, `Confirm rollback to ${d.image.tag}`);
  const cancel = h("button", { class: "secondary", hidden: true }, "Cancel");
  const slot = errorSlot();
  const asking = (yes) => {
    open.hidden = yes;
    confirm.hidden = cancel.hidden = !yes;
  };
  open.addEventListener("click", () => asking(true));
  cancel.addEventListener("click", () => asking(false));
  confirm.addEventListener("click", () => busy(confirm, slot, async () => {
    const { deployment } = checkPayload((await gql(ROLLBACK, { app, env, image: d.image.id }))
      .rollbackDeployment);
    asking(false);
    notices.prepend(h("div", { class: "notice ok" },
      `Rolling ${env} back to ${deployment.image.tag}: `,
      badge(deployment.status, deployment.status.toLowerCase())));
    await reload(); // live reloads it too; this is for a page whose live feed is down
  }));
  return h("div", { class: "card-actions inline-form" }, open, confirm, cancel, slot);
}
