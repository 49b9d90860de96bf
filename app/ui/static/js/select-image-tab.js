// Promote dialog, "Select Image": pick an image from CI or an environment, choose the
// targets (each with its promotionPreview verdict), promote, and show each outcome.
import { checkPayload, EVIDENCE_FIELDS, gql, IMAGE_FIELDS } from "./api.js";
import { CLAUSE_FIELDS, failedClauses } from "./clauses.js";
import { badge, busy, clear, errorSlot, h, loading } from "./dom.js";
import { imageSummary } from "./image.js";
import { pagedList } from "./pager.js";
import { href } from "./router.js";
import { localTime } from "./windows.js";

const IMAGES = `query($app: String!, $workflow: String!, $source: ImageSourceInput!,
  $after: String) { promotableImages(application: $app, workflow: $workflow, source: $source,
  first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { ${IMAGE_FIELDS} ${EVIDENCE_FIELDS} } } } }`;
const PREVIEW = `query($image: ID!, $source: ImageSourceInput!, $targets: [String!]!) {
  promotionPreview(imageId: $image, source: $source, targetEnvironments: $targets) {
    environment outcome message requiredApprovals eligibleApprovers { name }
    window { open opensAt closedBy }
    passCondition { expression result error } failCondition { expression result error }
    failedClauses { ${CLAUSE_FIELDS} } } }`;
const PROMOTE = `mutation($image: ID!, $source: ImageSourceInput!, $targets: [String!]!,
  $comment: String, $breakGlass: BreakGlassInput) { promoteImage(imageId: $image,
  source: $source, targetEnvironments: $targets, comment: $comment, breakGlass: $breakGlass) {
    results { environment outcome message request { id status }
      failedClauses { ${CLAUSE_FIELDS} } }
    errors { code message field } } }`;

const ELIGIBLE = new Set(["PROMOTING", "AWAITING_APPROVAL", "QUEUED"]);

export function renderSelectImageTab(panel, ctx) {
  const state = { source: { type: "CI" }, image: null };
  const sourceSelect = h("select", { id: "image-source", onchange: () => {
    const value = sourceSelect.value;
    state.source = value === "" ? { type: "CI" } : { type: "ENVIRONMENT", environment: value };
    state.image = null;
    showImages();
  } }, h("option", { value: "" }, "CI"),
  ctx.workflow.cdPipelines.map((p) => h("option", { value: p.environment.name },
    p.environment.name)));
  const body = h("div", { class: "tab-body" });
  const next = h("button", { class: "primary", disabled: true,
    onclick: () => showTargets() }, "Promote to…");
  const footer = h("footer", { class: "modal-foot" }, next);
  clear(panel, h("div", { class: "toolbar" },
    h("label", { for: "image-source" }, "Show images from"), sourceSelect), body, footer);

  function showImages() {
    next.disabled = true;
    footer.hidden = false;
    clear(body, loading());
    pagedList({
      container: body,
      empty: state.source.type === "CI" ? "CI has built no images yet."
        : `No image has passed every stage of ${state.source.environment} yet.`,
      load: async (after) => (await gql(IMAGES, { app: ctx.app, workflow: ctx.workflow.name,
        source: state.source, after })).promotableImages,
      renderNode: (image, list) => {
        const pick = h("button", { class: "secondary select" }, "Select");
        const card = h("div", { class: "image-card", "data-tag": image.tag },
          imageSummary(image), pick);
        pick.addEventListener("click", () => {
          for (const c of list.querySelectorAll(".image-card.selected")) {
            c.classList.remove("selected");
            c.querySelector(".select").textContent = "Select";
          }
          card.classList.add("selected");
          pick.textContent = "Selected";
          state.image = image;
          next.disabled = false;
        });
        list.append(card);
      },
    });
  }

  async function showTargets() {
    footer.hidden = true;
    const image = state.image;
    const from = state.source.type === "CI" ? "CI" : state.source.environment;
    const back = h("button", { class: "link", onclick: showImages }, "← Back to images");
    const heading = h("h3", {}, `Promote ${image.tag} from ${from} to…`);
    clear(body, back, heading, loading("Checking each target…"));
    // The source itself is no target; environments before it are, and say why not.
    const targets = ctx.targets.map((t) => t.environment.name)
      .filter((name) => name !== state.source.environment);
    if (!targets.length) {
      clear(body, back, heading, h("p", { class: "muted" },
        `No environment other than ${from} has a promotion policy.`));
      return;
    }
    let previews;
    try {
      previews = (await gql(PREVIEW, { image: image.id, source: state.source, targets }))
        .promotionPreview;
    } catch (error) {
      clear(body, back, heading, h("p", { class: "error" }, error.message));
      return;
    }
    const boxes = previews.map((p) => h("input", { type: "checkbox", name: "target",
      value: p.environment, disabled: !ELIGIBLE.has(p.outcome) }));
    const comment = h("textarea", { id: "promote-comment", rows: 2, maxlength: 1000,
      placeholder: "Why this image, why now (optional)" });
    // Break glass, offered when a target's promotion window is closed.
    const closed = previews.some((p) => p.window && !p.window.open);
    const glass = h("input", { type: "text", id: "break-glass", maxlength: 2000,
      placeholder: "Why it cannot wait for the window" });
    const promote = h("button", { class: "primary", disabled: true }, "Promote Image");
    const slot = errorSlot();
    const results = h("div", { class: "results" });
    const refresh = () => { promote.disabled = !boxes.some((b) => b.checked); };
    for (const box of boxes) box.addEventListener("change", refresh);
    promote.addEventListener("click", () => busy(promote, slot, async () => {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      const reason = glass.value.trim();
      const data = await gql(PROMOTE, { image: image.id, source: state.source,
        targets: chosen, comment: comment.value.trim() || null,
        breakGlass: closed && reason ? { reason } : null });
      const payload = checkPayload(data.promoteImage);
      clear(results, h("h4", {}, "Result"), payload.results.map(resultRow));
      for (const box of boxes) box.disabled = true;
      promote.hidden = true;
    }));
    clear(body, back, heading,
      h("ul", { class: "targets" }, previews.map((p, i) => targetRow(p, boxes[i]))),
      h("label", { for: "promote-comment" }, "Comment"), comment,
      closed && [h("label", { for: "break-glass" }, "Break glass (optional)"), glass,
        h("div", { class: "muted small" }, "Promotes through the closed window, but needs the ",
          "policy's extra break-glass approvals; every approver is emailed.")],
      h("div", { class: "actions" }, promote, slot), results);
  }

  showImages();
}

function targetRow(preview, box) {
  const eligible = ELIGIBLE.has(preview.outcome);
  const verdict = preview.outcome === "QUEUED" ? badge("queued until the window opens", "queued")
    : eligible ? badge(preview.requiredApprovals ? `needs ${preview.requiredApprovals} approval(s)`
      : "no approval needed", "ok")
      : badge(preview.outcome.replaceAll("_", " ").toLowerCase(), "blocked");
  const window = preview.window;
  return h("li", { class: `target ${eligible ? "eligible" : "not-eligible"}`,
    "data-env": preview.environment },
  h("label", {}, box, h("strong", {}, preview.environment)), verdict,
  h("div", { class: "verdict-message" }, preview.message),
  window && !window.open && h("div", { class: "window closed small" },
    `Promotion window closed (${window.closedBy.join(", ")}): `,
    window.opensAt ? `opens ${localTime(window.opensAt)}` : "no opening scheduled",
    preview.outcome === "AWAITING_APPROVAL" ? "; approvals are collected meanwhile" : ""),
  eligible && preview.requiredApprovals > 0 && h("div", { class: "muted small" },
    "Can approve: ", preview.eligibleApprovers.map((u) => u.name).join(", ") || "nobody yet"),
  [preview.passCondition && condition("pass", preview.passCondition),
    preview.failCondition && condition("fail", preview.failCondition)],
  failedClauses(preview.failedClauses, eligible));
}

function condition(kind, c) {
  const outcome = c.error ? `error: ${c.error}` : String(c.result);
  return h("div", { class: "condition small" }, `${kind} condition `, h("code", {}, c.expression),
    " → ", outcome);
}

function resultRow(result) {
  const ok = ELIGIBLE.has(result.outcome);
  return h("div", { class: `result ${ok ? "ok" : "failed"}`, "data-env": result.environment },
    h("strong", {}, result.environment), " ", badge(result.outcome, ok ? "ok" : "blocked"), " ",
    result.message,
    result.request && [" · ", h("a", { href: href("requests", result.request.id) },
      "view request")],
    failedClauses(result.failedClauses, ok));
}

