// Promotion policies (super-admins): the list, with where each one applies; then the
// promotion windows (windows.js).
import { gql } from "./api.js";
import { clear, h, loading, pageTitle } from "./dom.js";
import { href } from "./router.js";
import { me } from "./session.js";
import { windowsSection } from "./windows.js";

export const POLICY_FIELDS = `name description passCondition failCondition approverCount
  allowRequestFromApprove allowImageBuilderFromApprove allowApproverFromDeploy version
  requestTimeout approvalMaxAge remindAfter maxReminders breakGlassApproverCount
  enforcement bindings { appName envName }`;

export async function renderPolicies(view) {
  const title = pageTitle("Promotion policies");
  if (!me().superAdmin) {
    clear(view, title, h("p", { class: "muted" }, "Policies are managed by super-admins."));
    return;
  }
  clear(view, title, loading());
  const { promotionPolicies } = await gql(`{ promotionPolicies { ${POLICY_FIELDS} } }`);
  const code = (text) => (text ? h("code", {}, text) : h("span", { class: "muted" }, "—"));
  const flags = (p) => [
    p.allowRequestFromApprove && "requester may approve",
    p.allowImageBuilderFromApprove && "builder may approve",
    p.allowApproverFromDeploy && "approver may deploy",
  ].filter(Boolean).join(", ") || "—";
  const limits = (p) => [
    p.requestTimeout && `expires after ${p.requestTimeout}`,
    p.approvalMaxAge && `approvals count ${p.approvalMaxAge}`,
    p.remindAfter && `reminder every ${p.remindAfter} (at most ${p.maxReminders})`,
  ].filter(Boolean).join(", ") || "—";
  clear(view, title,
    h("p", {}, h("a", { class: "button primary", href: href("new-policy") }, "New policy")),
    promotionPolicies.length ? h("table", { class: "table policies" },
      h("thead", {}, h("tr", {}, ["Name", "Pass condition", "Fail condition", "Approvals",
        "Allowed", "Time limits", "Version", "Applied to"].map((c) => h("th", {}, c)))),
      h("tbody", {}, promotionPolicies.map((p) => h("tr", { "data-policy": p.name },
        h("td", {}, h("a", { href: href("policies", p.name) }, p.name),
          p.enforcement === "WARN" && h("span", { class: "badge queued warn-only" }, "warn only"),
          p.description && h("div", { class: "muted small" }, p.description)),
        h("td", {}, code(p.passCondition)), h("td", {}, code(p.failCondition)),
        h("td", {}, String(p.approverCount)), h("td", { class: "small" }, flags(p)),
        h("td", { class: "small" }, limits(p)),
        h("td", {}, `v${p.version}`),
        h("td", { class: "small" }, p.bindings.map((b) => `${b.appName}/${b.envName}`)
          .join(", ") || "—")))))
      : h("p", { class: "muted empty" }, "No policy yet. Without one, nothing can be promoted."),
    await windowsSection());
}
