// An environment's "Select Image" for deployment: every deployable image with why or
// why not, deployment approvals, and Deploy.
import { checkPayload, EVIDENCE_FIELDS, gql, IMAGE_FIELDS } from "./api.js";
import { badge, busy, clear, errorSlot, h, loading, pageTitle } from "./dom.js";
import { imageSummary } from "./image.js";
import { href } from "./router.js";
import { can } from "./session.js";

const DEPLOYABLE = `query($app: String!, $env: String!, $after: String) {
  deployableImages(application: $app, environment: $env, first: 20, after: $after) {
    edges { node {
      image { ${IMAGE_FIELDS} ${EVIDENCE_FIELDS} } deployable reasons deploymentApprovals requiredDeploymentApprovals
      promotedFrom { sourceType sourceEnvironment requestId approvers { name } } } }
    pageInfo { hasNextPage endCursor } } }`;
const APPROVE = `mutation($app: String!, $env: String!, $image: ID!) {
  approveDeployment(application: $app, environment: $env, imageId: $image) {
    approved errors { code message field } } }`;
const DEPLOY = `mutation($app: String!, $env: String!, $image: ID!) {
  deployImage(application: $app, environment: $env, imageId: $image) {
    deployment { id status image { tag } } errors { code message field } } }`;

// "promoted from CI · request to prod · approved by …": ids are opaque, so the link says
// what the request was rather than showing its id.
export function promotedFromText(from, env) {
  if (!from) return null;
  const source = from.sourceType === "CI" ? "CI" : from.sourceEnvironment;
  return [`promoted from ${source} · `,
    h("a", { href: href("requests", from.requestId) }, `request to ${env}`),
    from.approvers.length ? ` · approved by ${from.approvers.map((u) => u.name).join(", ")}` : ""];
}

export async function renderDeploy(view, { app, env }) {
  const title = pageTitle(h("a", { href: "#/" }, "Applications"),
    h("a", { href: href("apps", app) }, app), env, "Select Image");
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const list = h("div", { class: "list" }, loading());
  clear(view, title, h("p", { class: "subnav" },
    h("a", { href: href("apps", app, "envs", env, "history") }, "Deployment History")),
  notices, list);

  // Newest first, a page at a time: "Older images" appends the next page. The first page
  // replaces the list only once it has arrived, so a reload never flashes an empty list.
  const showPage = async (after) => {
    const { deployableImages: page } = await gql(DEPLOYABLE, { app, env, after });
    if (after === null) clear(list);
    list.querySelector(".more")?.remove();
    list.append(...page.edges.map((e) => card(e.node, { app, env, notices, reload })));
    if (page.pageInfo.hasNextPage) {
      const more = h("button", { class: "secondary" }, "Older images");
      const slot = errorSlot(); // a failed page says so here, not as an unhandled rejection
      more.addEventListener("click", () => busy(more, slot, () => showPage(page.pageInfo.endCursor)));
      list.append(h("div", { class: "pager more" }, more, slot));
    }
    return page.edges.length;
  };
  const reload = async () => {
    if (!(await showPage(null))) {
      clear(list, h("p", { class: "muted empty" }, `No image has reached ${env} yet.`));
    }
  };
  await reload();
}

function card(d, { app, env, notices, reload }) {
  const image = d.image;
  const slot = errorSlot();
  const controls = [];
  const needsApproval = d.deploymentApprovals < d.requiredDeploymentApprovals;
  if (needsApproval && can("DEPLOYMENT_APPROVER", app, env)) {
    const approveButton = h("button", { class: "secondary" }, "Approve deployment");
    approveButton.addEventListener("click", () => busy(approveButton, slot, async () => {
      checkPayload((await gql(APPROVE, { app, env, image: image.id })).approveDeployment);
      await reload();
    }));
    controls.push(approveButton);
  }
  if (can("BUILD_DEPLOY", app, env)) {
    const deploy = h("button", { class: "primary deploy", disabled: !d.deployable,
      title: d.deployable ? null : "See why below" }, "Deploy");
    deploy.addEventListener("click", () => busy(deploy, slot, async () => {
      const { deployment } = checkPayload((await gql(DEPLOY, { app, env, image: image.id }))
        .deployImage);
      notices.prepend(h("div", { class: "notice ok" },
        `Deploying ${deployment.image.tag} to ${env}: `,
        badge(deployment.status, deployment.status.toLowerCase()), " · ",
        h("a", { href: href("apps", app, "envs", env, "history") }, "see Deployment History")));
      await reload();
    }));
    controls.push(deploy);
  }
  return h("div", { class: `image-card ${d.deployable ? "" : "not-deployable"}`,
    "data-tag": image.tag },
  h("div", { class: "grow" },
    imageSummary(image),
    d.promotedFrom && h("div", { class: "small promoted" }, promotedFromText(d.promotedFrom, env)),
    d.requiredDeploymentApprovals > 0 && h("div", { class: "small approvals" },
      `deployment approvals ${d.deploymentApprovals}/${d.requiredDeploymentApprovals}`),
    d.reasons.length > 0 && h("ul", { class: "reasons" },
      d.reasons.map((reason) => h("li", {}, reason)))),
  h("div", { class: "card-actions" }, controls, slot));
}
