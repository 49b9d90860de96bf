// Promotion requests: the fields every screen reads, and the approve / reject / cancel
// controls shared by the Approval Pending tab and the request page.
import { checkPayload, gql, IMAGE_FIELDS } from "./api.js";
import { badge, busy, errorSlot, h } from "./dom.js";
import { me } from "./session.js";

export const REQUEST_FIELDS = `id status comment createdAt promotedAt policyVersion staleReason
  autoDeployBlockedReason requiredApprovals canApprove cannotApproveReason
  expiresAt remindersSent nextReminderAt
  image { ${IMAGE_FIELDS} workflow { name } } application { name }
  source { type environment } targetEnvironment { name } requestedBy { id name email }
  policy { name } approvals { at comment counts user { name } } rejection { at comment user { name } }`;

const APPROVE = `mutation($ids: [ID!]!, $comment: String) {
  approvePromotionRequests(requestIds: $ids, comment: $comment) {
    results { requestId outcome message request { id status targetEnvironment { name } } }
    errors { code message field } } }`;
const REJECT = `mutation($ids: [ID!]!, $reason: String!) {
  rejectPromotionRequests(requestIds: $ids, reason: $reason) {
    results { requestId outcome message request { id status targetEnvironment { name } } }
    errors { code message field } } }`;
const CANCEL = `mutation($id: ID!) { cancelPromotionRequest(requestId: $id) {
  request { id status } errors { code message field } } }`;

export const approve = async (ids, comment) =>
  checkPayload((await gql(APPROVE, { ids, comment: comment || null })).approvePromotionRequests)
    .results;
export const reject = async (ids, reason) =>
  checkPayload((await gql(REJECT, { ids, reason })).rejectPromotionRequests).results;
export const cancel = async (id) =>
  checkPayload((await gql(CANCEL, { id })).cancelPromotionRequest).request;

// Only approvals that still count (an approvalMaxAge ages them out) fill the quorum.
export const approvalsText = (request) =>
  `${request.approvals.filter((a) => a.counts).length}/${request.requiredApprovals} approval(s)`;

export const isMine = (request) => me()?.id === request.requestedBy.id;

// One decision outcome, as a line: "prod APPROVED: recorded (1 of 2)".
export function decisionLine(result) {
  const ok = ["APPROVED", "PROMOTING", "QUEUED", "REJECTED", "CANCELLED"].includes(result.outcome);
  return h("div", { class: `result ${ok ? "ok" : "failed"}` },
    h("strong", {}, result.request?.targetEnvironment.name ?? "Request"),
    " ", badge(result.outcome, ok ? "ok" : "blocked"), " ", result.message);
}

// Reject: asks for a reason first. `done(results)` runs after the server answered.
export function rejectControl(request, done) {
  const open = h("button", { class: "secondary danger" }, "Reject");
  const reason = h("input", { type: "text", class: "reason", maxlength: 1000,
    placeholder: "Reason (required)", "aria-label": "Reason for rejecting", hidden: true });
  const confirm = h("button", { class: "danger", hidden: true }, "Confirm reject");
  const slot = errorSlot();
  open.addEventListener("click", () => {
    open.hidden = true;
    reason.hidden = confirm.hidden = false;
    reason.focus();
  });
  confirm.addEventListener("click", () => busy(confirm, slot, async () => {
    if (!reason.value.trim()) throw new Error("Give a reason: the requester will read it.");
    done(await reject([request.id], reason.value.trim()));
  }));
  return h("span", { class: "inline-form" }, open, reason, confirm, slot);
}

export function cancelControl(request, done) {
  const button = h("button", { class: "secondary" }, "Cancel request");
  const slot = errorSlot();
  button.addEventListener("click", () => busy(button, slot, async () => {
    const cancelled = await cancel(request.id);
    done([{ requestId: request.id, outcome: cancelled.status, message: "withdrawn",
      request: { ...request, status: cancelled.status } }]);
  }));
  return h("span", { class: "inline-form" }, button, slot);
}
