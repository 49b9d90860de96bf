// An application's Build & Deploy view: each workflow as CI → its CD pipeline tree,
// every environment with the image last deployed there, and the Promote button. Live: a
// deployment anywhere in the application redraws the workflows (not the page, so the live
// stream and an open Promote dialog stay).
import { gql } from "./api.js";
import { badge, clear, h, loading, pageTitle, when } from "./dom.js";
import { debounced, live, liveIndicator } from "./live.js";
import { openPromoteDialog } from "./promote-dialog.js";
import { href } from "./router.js";

const APPLICATION = `query($name: String!) { application(name: $name) { name workflows {
  name ciPipeline cdPipelines { id environment { name production } parentEnvironment { name }
    preStage postStage trigger deploymentApprovalCount filterPassCondition filterFailCondition
    policy { name approverCount } } } } }`;
const TARGETS = `query($app: String!, $workflow: String!) {
  promotionTargets(application: $app, workflow: $workflow) {
    environment { name } policy { name approverCount } } }`;
const CHANGED = `subscription($app: String) { deploymentChanged(application: $app) { action } }`;
const LAST_DEPLOYMENT = `query($app: String!, $env: String!) {
  deploymentHistory(application: $app, environment: $env, first: 1) { edges { node {
    id status createdAt image { tag image } deployedBy { name } commit { sha } } } } }`;

export async function renderBuildDeploy(view, { app }) {
  clear(view, pageTitle(h("a", { href: "#/" }, "Applications"), app), loading());
  const { application } = await gql(APPLICATION, { name: app });
  if (!application) {
    clear(view, pageTitle(h("a", { href: "#/" }, "Applications"), app),
      h("p", { class: "error" }, `No application named ${app}, or you hold no role on it.`));
    return;
  }
  const workflows = h("div", { class: "workflows" });
  const liveState = liveIndicator();
  const show = async () => {
    const rows = await Promise.all(application.workflows.map((w) => workflowRow(app, w, show)));
    clear(workflows,
      rows.length ? rows : h("p", { class: "muted empty" }, "This application has no workflows."));
  };
  await show();
  clear(view, pageTitle(h("a", { href: "#/" }, "Applications"), app),
    h("h2", { class: "section" }, "Build & Deploy ", liveState), workflows);
  live(liveState, CHANGED, { app }, debounced(show));
}

async function workflowRow(app, workflow, refresh) {
  const environments = workflow.cdPipelines.map((p) => p.environment.name);
  const [{ promotionTargets }, ...latest] = await Promise.all([
    gql(TARGETS, { app, workflow: workflow.name }),
    ...environments.map((env) => gql(LAST_DEPLOYMENT, { app, env })),
  ]);
  const lastByEnv = Object.fromEntries(environments.map((env, i) =>
    [env, latest[i].deploymentHistory.edges[0]?.node ?? null]));
  const promote = promotionTargets.length > 0 && h("button", {
    class: "primary promote",
    onclick: () => openPromoteDialog({
      app, workflow, targets: promotionTargets, onClose: refresh,
    }),
  }, "Promote");
  return h("section", { class: "card workflow", "data-workflow": workflow.name },
    h("header", { class: "workflow-head" },
      h("h3", {}, workflow.name),
      h("span", { class: "muted" }, `${workflow.cdPipelines.length} environment(s)`),
      h("span", { class: "spacer" }), promote),
    h("div", { class: "pipeline" },
      h("div", { class: "node ci" }, h("div", { class: "node-kind" }, "CI"),
        h("div", { class: "node-name" }, workflow.ciPipeline),
        h("div", { class: "muted small" }, "Build")),
      tree(app, workflow.cdPipelines, null, lastByEnv)));
}

// The CD pipelines following `parent` (null: CI), each followed by its own subtree.
// cdPipelines come parents first, so children keep the API's order.
function tree(app, pipelines, parent, lastByEnv) {
  const children = pipelines.filter((p) => (p.parentEnvironment?.name ?? null) === parent);
  if (!children.length) return null;
  return h("div", { class: "children" }, children.map((p) => h("div", { class: "branch" },
    environmentNode(app, p, lastByEnv[p.environment.name]),
    tree(app, pipelines, p.environment.name, lastByEnv))));
}

function environmentNode(app, pipeline, last) {
  const env = pipeline.environment.name;
  const facts = [
    pipeline.trigger === "AUTOMATIC" ? "auto" : "manual",
    pipeline.preStage && "pre",
    pipeline.postStage && "post",
    pipeline.deploymentApprovalCount > 0 && `${pipeline.deploymentApprovalCount} deploy approval(s)`,
    (pipeline.filterPassCondition || pipeline.filterFailCondition) && "filter",
  ].filter(Boolean);
  return h("div", { class: "node env", "data-env": env },
    h("div", { class: "node-kind" }, "CD", pipeline.environment.production && badge("prod", "prod")),
    h("div", { class: "node-name" }, env),
    h("div", { class: "muted small" }, facts.join(" · ")),
    pipeline.policy && h("div", { class: "small policy" }, "policy: ", pipeline.policy.name),
    h("div", { class: "last-deployed" }, last
      ? [h("strong", { title: last.image.image }, last.image.tag), " ",
        badge(last.status, last.status.toLowerCase()), " ", when(last.createdAt),
        // A git deployment: the commit that carried it (History has the whole of it).
        last.commit && [" ", h("code", { class: "deployment-commit", title: last.commit.sha },
          last.commit.sha.slice(0, 7))]]
      : h("span", { class: "muted" }, "nothing deployed")),
    h("div", { class: "node-links" },
      h("a", { href: href("apps", app, "envs", env, "deploy") }, "Select Image"),
      h("a", { href: href("apps", app, "envs", env, "history") }, "History")));
}
