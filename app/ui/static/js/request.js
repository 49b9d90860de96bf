// One promotion request (emails link here): its story so far, and what you can do now.
import { gql } from "./api.js";
import { CLAUSE_FIELDS, failedClauses } from "./clauses.js";
import { badge, busy, clear, errorSlot, h, loading, pageTitle, when } from "./dom.js";
import { imageSummary, sourceText } from "./image.js";
import { approvalsText, approve, cancelControl, decisionLine, isMine, rejectControl,
  REQUEST_FIELDS } from "./requests.js";
import { debounced, live, liveIndicator } from "./live.js";
import { href } from "./router.js";
import { windowState } from "./windows.js";

const REQUEST = `query($id: ID!) { promotionRequest(id: $id) { ${REQUEST_FIELDS}
  breakGlassReason window { open opensAt closesAt closedBy }
  warnings { ${CLAUSE_FIELDS} } attestation { keyId } } }`;
const CHANGED = `subscription($app: String, $env: String) {
  promotionRequestChanged(application: $app, targetEnvironment: $env) { request { id } } }`;

// Ids are opaque (base64): the page is named by what the request asks for instead.
const requestTitle = (r) => r
  ? `Request to ${r.targetEnvironment.name} for ${r.application.name}:${r.image.tag || "(digest)"}`
  : "Request";

export async function renderRequest(view, { id }) {
  const title = (r) => pageTitle(h("a", { href: "#/" }, "Applications"), requestTitle(r));
  clear(view, title(null), loading());
  const { promotionRequest: r } = await gql(REQUEST, { id });
  if (!r) {
    clear(view, title(null), h("p", { class: "error" },
      "No such promotion request, or it is of an application you hold no role on."));
    return;
  }
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const decided = async (results) => {
    await renderRequest(view, { id });
    view.querySelector(".notices").append(...results.map(decisionLine));
  };
  const facts = [
    ["Status", badge(r.status, r.status.toLowerCase())],
    ["Application", h("a", { href: href("apps", r.application.name) }, r.application.name)],
    ["From", sourceText(r.source)],
    ["To", r.targetEnvironment.name],
    ["Requested by", [r.requestedBy.name, " ", when(r.createdAt)]],
    ["Comment", r.comment ?? "—"],
    ["Policy", r.policy ? `${r.policy.name} (version ${r.policyVersion})` : "deleted"],
    ["Approvals", [approvalsText(r), r.approvals.length > 0 && h("ul", { class: "plain" },
      r.approvals.map((a) => h("li", { class: a.counts ? null : "aged" }, a.user.name, " ",
        when(a.at), a.comment ? ` — ${a.comment}` : "",
        !a.counts && h("span", { class: "muted small" },
          " (no longer counts: older than the policy's approval age)"))))]],
    r.expiresAt && ["Expires", when(r.expiresAt)],
    (r.remindersSent > 0 || r.nextReminderAt) && ["Reminders", [
      `${r.remindersSent} sent`, r.nextReminderAt && [", next ", when(r.nextReminderAt)]]],
    r.rejection && ["Rejected", [r.rejection.user.name, " ", when(r.rejection.at), ": ",
      r.rejection.comment ?? ""]],
    r.breakGlassReason && ["Break glass", r.breakGlassReason],
    r.window && ["Promotion window", windowState(r.window)
      + (r.window.open ? "" : ` (${r.window.closedBy.join(", ")})`)],
    r.staleReason && ["Stale because", r.staleReason],
    r.warnings.length > 0 && ["Policy warnings", failedClauses(r.warnings, true)],
    r.promotedAt && ["Promoted", when(r.promotedAt)],
    r.attestation && ["Signed record", h("span", { class: "muted small" },
      `signed with key ${r.attestation.keyId.slice(0, 12)}…; hoist get attestation prints it`)],
    r.autoDeployBlockedReason && ["Not deployed automatically", r.autoDeployBlockedReason],
  ].filter(Boolean);
  const actions = h("div", { class: "actions" });
  if (r.status === "AWAITING_APPROVAL") {
    if (r.canApprove) {
      const button = h("button", { class: "primary" }, "Approve");
      const slot = errorSlot();
      button.addEventListener("click", () => busy(button, slot, async () =>
        decided(await approve([r.id], null))));
      actions.append(button, slot, rejectControl(r, decided));
    } else {
      actions.append(h("span", { class: "muted" }, r.cannotApproveReason ?? ""));
    }
    if (isMine(r)) actions.append(cancelControl(r, decided));
  } else if (r.status === "QUEUED" && isMine(r)) {
    actions.append(cancelControl(r, decided)); // waiting for its window: still withdrawable
  }
  const liveState = liveIndicator();
  clear(view, title(r), notices,
    h("section", { class: "card" }, imageSummary(r.image),
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      actions, h("div", { class: "actions" }, liveState)));
  // Live: this request's changes (a decision elsewhere, the worker's PROMOTED) show at
  // once; not while you type in one of its forms (a reject reason).
  live(liveState, CHANGED, { app: r.application.name, env: r.targetEnvironment.name },
    debounced(async (data) => {
      const mine = !data || data.promotionRequestChanged.request.id === r.id;
      const typing = document.activeElement?.closest("form, input, textarea") ?? null;
      if (!mine || view.contains(typing)) return;
      const kept = [...notices.childNodes]; // what your own decision said stays
      await renderRequest(view, { id });
      view.querySelector(".notices")?.append(...kept);
    }));
}
