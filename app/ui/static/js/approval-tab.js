// Promote dialog, "Approval Pending": requests of this workflow awaiting approval,
// grouped by image; "Approve for…" picks the target environments (the requests) to approve.
import { gql } from "./api.js";
import { debounced, live, liveIndicator } from "./live.js";
import { badge, busy, clear, errorSlot, h, when } from "./dom.js";
import { imageSummary, sourceText } from "./image.js";
import { pagedList } from "./pager.js";
import { approvalsText, approve, cancelControl, decisionLine, isMine, rejectControl,
  REQUEST_FIELDS } from "./requests.js";
import { href } from "./router.js";

const PENDING = `query($app: String!, $workflow: String!, $target: String, $mine: Boolean,
  $after: String) { pendingApprovals(application: $app, workflow: $workflow,
  targetEnvironment: $target, pendingWithMe: $mine, first: 20, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { ${REQUEST_FIELDS} } } } }`;
// Any change of the application's requests: the list is read again (one query).
const CHANGED = `subscription($app: String) { promotionRequestChanged(application: $app) {
  action } }`;

export function renderApprovalTab(panel, ctx) {
  const target = h("select", { id: "request-target", onchange: () => show() },
    h("option", { value: "" }, "All target environments"),
    ctx.targets.map((t) => h("option", { value: t.environment.name }, t.environment.name)));
  const mine = h("input", { type: "checkbox", id: "pending-with-me", checked: true,
    onchange: () => show() });
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const body = h("div", { class: "tab-body" });
  const liveState = liveIndicator();
  clear(panel, h("div", { class: "toolbar" },
    h("label", { for: "request-target" }, "Show requests"), target,
    h("label", { class: "check" }, mine, "Only those pending with me"), liveState),
    notices, body);
  // Live: another user's approval, rejection or request shows without a reload (not while
  // an "Approve for…" choice is open, which a reload would throw away).
  live(liveState, CHANGED, { app: ctx.app }, debounced(() => {
    if (!body.querySelector(".approve-for:not([hidden])")) show();
  }));

  // After a decision: say what happened (it stays), then reload the list.
  const decided = (results) => {
    notices.prepend(h("div", { class: "notice" }, results.map(decisionLine)));
    show();
  };

  function show() {
    const groups = new Map();
    pagedList({
      container: body,
      empty: mine.checked ? "Nothing is waiting for your approval." : "No request awaits approval.",
      load: async (after) => (await gql(PENDING, { app: ctx.app, workflow: ctx.workflow.name,
        target: target.value || null, mine: mine.checked, after })).pendingApprovals,
      renderNode: (request, list) => {
        let group = groups.get(request.image.id);
        if (!group) {
          group = imageGroup(request.image, decided);
          groups.set(request.image.id, group);
          list.append(group.node);
        }
        group.add(request);
      },
    });
  }
  show();
}

// An image's card with its requests, one row per target environment.
function imageGroup(image, decided) {
  const rows = h("tbody");
  const approvable = [];
  const pick = h("div", { class: "approve-for", hidden: true });
  const openPick = h("button", { class: "primary", hidden: true }, "Approve for…");
  const node = h("div", { class: "request-group", "data-tag": image.tag },
    imageSummary(image),
    h("table", { class: "table compact" }, h("thead", {}, h("tr", {},
      ["Target", "From", "Requested by", "Approvals", "You", ""].map((c) => h("th", {}, c)))),
    rows),
    h("div", { class: "actions" }, openPick), pick);

  openPick.addEventListener("click", () => {
    openPick.hidden = true;
    pick.hidden = false;
    const boxes = approvable.map((r) => h("input", { type: "checkbox", value: r.id,
      checked: approvable.length === 1 }));
    const comment = h("input", { type: "text", maxlength: 1000, placeholder: "Comment (optional)",
      "aria-label": "Approval comment" });
    const go = h("button", { class: "primary" }, "Approve");
    const slot = errorSlot();
    go.addEventListener("click", () => busy(go, slot, async () => {
      const ids = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!ids.length) throw new Error("Pick at least one target environment.");
      decided(await approve(ids, comment.value.trim()));
    }));
    clear(pick, h("div", { class: "muted small" }, "Approve the promotion of ", image.tag, " to:"),
      approvable.map((r, i) => h("label", { class: "check" }, boxes[i],
        r.targetEnvironment.name)),
      comment, h("div", { class: "actions" }, go, slot));
  });

  function add(request) {
    if (request.canApprove) {
      approvable.push(request);
      openPick.hidden = !pick.hidden;
    }
    rows.append(h("tr", { "data-request": request.id, "data-env": request.targetEnvironment.name },
      h("td", {}, h("a", { href: href("requests", request.id) }, request.targetEnvironment.name)),
      h("td", {}, sourceText(request.source)),
      h("td", {}, request.requestedBy.name, " ", when(request.createdAt),
        request.comment && h("div", { class: "muted small comment" }, `“${request.comment}”`)),
      h("td", {}, approvalsText(request),
        request.approvals.length > 0 && h("div", { class: "muted small" },
          request.approvals.map((a) => a.user.name).join(", "))),
      h("td", {}, request.canApprove ? badge("you can approve", "ok")
        : h("span", { class: "muted small" }, request.cannotApproveReason)),
      h("td", { class: "row-actions" },
        request.canApprove && rejectControl(request, decided),
        isMine(request) && cancelControl(request, decided))));
  }
  return { node, add };
}
