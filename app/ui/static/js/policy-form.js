// Create or edit a promotion policy, with live CEL validation (a debounced dry run
// through validateCondition: nothing is written while typing), and apply it to pairs.
import { checkPayload, gql } from "./api.js";
import { busy, clear, errorSlot, h, loading, pageTitle, showError } from "./dom.js";
import { POLICY_FIELDS } from "./policies.js";
import { href } from "./router.js";
import { me } from "./session.js";

const GET = `query($name: String!) { promotionPolicy(name: $name) { ${POLICY_FIELDS} } }`;
const VALIDATE = `query($expression: String!) { validateCondition(expression: $expression) }`;
const CREATE = `mutation($input: PromotionPolicyInput!) { createPromotionPolicy(input: $input) {
  policy { name version } errors { code message field } } }`;
const UPDATE = `mutation($name: String!, $input: PromotionPolicyPatch!) {
  updatePromotionPolicy(name: $name, input: $input) {
    policy { name version } errors { code message field } } }`;
const PAIRS = `{ applications { name workflows { cdPipelines {
  environment { name } policy { name } } } } }`;
const APPLY = `mutation($policy: String, $pairs: [AppEnvInput!]!) {
  applyPromotionPolicy(policy: $policy, applicationEnvironments: $pairs) {
    bindings { appName envName } errors { code message field } } }`;

const DEBOUNCE_MS = 350;
// Durations as the API writes them ("72h", "1h30m"); empty: none.
const DURATIONS = [["requestTimeout", "Requests expire after (e.g. 72h; empty: never)"],
  ["approvalMaxAge", "Approvals stop counting after (e.g. 24h; empty: never)"],
  ["remindAfter", "Remind undecided approvers every (e.g. 8h; empty: no reminders)"]];
const FLAGS = [["allowRequestFromApprove", "The requester may approve their own request"],
  ["allowImageBuilderFromApprove", "The user who built the image may approve it"],
  ["allowApproverFromDeploy", "An approver of the promotion may deploy the image"]];

export async function renderPolicyForm(view, { name }) {
  const creating = name === undefined;
  const title = pageTitle(h("a", { href: href("policies") }, "Promotion policies"),
    creating ? "New policy" : name);
  if (!me().superAdmin) {
    clear(view, title, h("p", { class: "muted" }, "Policies are managed by super-admins."));
    return;
  }
  clear(view, title, loading());
  const policy = creating ? null : (await gql(GET, { name })).promotionPolicy;
  if (!creating && !policy) {
    clear(view, title, h("p", { class: "error" }, `No policy named ${name}.`));
    return;
  }
  const fields = {};
  const slots = {};
  const text = (key, label, attrs = {}) => {
    fields[key] = h(attrs.rows ? "textarea" : "input", { id: key, name: key,
      value: policy?.[key] ?? "", ...attrs });
    slots[key] = errorSlot();
    return h("div", { class: "field" }, h("label", { for: key }, label), fields[key], slots[key]);
  };
  const form = h("form", { class: "card policy-form" },
    text("name", "Name", { required: true, maxlength: 50, pattern: "[a-z0-9-]{3,50}",
      placeholder: "lowercase-with-dashes" }),
    text("description", "Description", { maxlength: 300 }),
    text("passCondition", "Pass condition (CEL): the image must meet it",
      { rows: 2, class: "code", spellcheck: "false", placeholder: 'containerImageTag.startsWith("v")' }),
    text("failCondition", "Fail condition (CEL): an image meeting it is blocked",
      { rows: 2, class: "code", spellcheck: "false", placeholder: '"rc" in imageLabels' }),
    h("p", { class: "muted small" }, "Variables: containerImage, containerRepository, ",
      "containerImageTag, imageLabels, gitCommitDetails."),
    text("approverCount", "Approvals needed (0–6)", { type: "number", min: 0, max: 6,
      value: String(policy?.approverCount ?? 0) }),
    DURATIONS.map(([key, label]) => text(key, label, { maxlength: 32, placeholder: "72h" })),
    text("maxReminders", "Reminders per approver, at most (0–10)", { type: "number", min: 0,
      max: 10, value: String(policy?.maxReminders ?? 2) }),
    text("breakGlassApproverCount", "Extra approvals to break glass through a closed window (0–6)",
      { type: "number", min: 0, max: 6, value: String(policy?.breakGlassApproverCount ?? 1) }),
    FLAGS.map(([key, label]) => {
      fields[key] = h("input", { type: "checkbox", id: key, checked: policy?.[key] ?? false });
      return h("label", { class: "check" }, fields[key], label);
    }),
    (() => {
      fields.enforcement = h("input", { type: "checkbox", id: "enforcement",
        checked: policy?.enforcement === "WARN" });
      return h("label", { class: "check" }, fields.enforcement,
        "Warn only: failing conditions do not block; requests carry them as warnings");
    })());
  for (const key of ["passCondition", "failCondition"]) liveValidation(fields[key], slots[key]);

  const save = h("button", { class: "primary", type: "submit" },
    creating ? "Create policy" : "Save changes");
  const saveSlot = errorSlot();
  form.append(h("div", { class: "actions" }, save, saveSlot));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, saveSlot, async () => {
      for (const slot of Object.values(slots)) slot.textContent = "";
      const values = {
        name: fields.name.value.trim(), description: fields.description.value.trim() || null,
        passCondition: fields.passCondition.value.trim(),
        failCondition: fields.failCondition.value.trim(),
        approverCount: Number(fields.approverCount.value),
        maxReminders: Number(fields.maxReminders.value),
        breakGlassApproverCount: Number(fields.breakGlassApproverCount.value),
        enforcement: fields.enforcement.checked ? "WARN" : "ENFORCE",
        // "" drops a limit on update; on create, none is the same as "".
        ...Object.fromEntries(DURATIONS.map(([key]) => [key, fields[key].value.trim()])),
        ...Object.fromEntries(FLAGS.map(([key]) => [key, fields[key].checked])),
      };
      const payload = creating
        ? (await gql(CREATE, { input: { ...values, passCondition: values.passCondition || null,
          failCondition: values.failCondition || null } })).createPromotionPolicy
        : (await gql(UPDATE, { name, input: values })).updatePromotionPolicy;
      // Each error next to its field; the button says what no field shows.
      const elsewhere = payload.errors.filter((error) => !slots[error.field]);
      for (const error of payload.errors) {
        if (slots[error.field]) showError(slots[error.field], error.message);
      }
      if (payload.errors.length && !elsewhere.length) {
        throw new Error("Nothing was saved: see the messages above.");
      }
      checkPayload({ errors: elsewhere });
      location.hash = href("policies", payload.policy.name);
    });
  });
  clear(view, title, form, creating ? null : await applySection(policy));
}

function liveValidation(field, slot) {
  let timer = null;
  let asked = 0;
  field.addEventListener("input", () => {
    clearTimeout(timer);
    slot.textContent = "";
    slot.className = "error";
    timer = setTimeout(async () => {
      const mine = ++asked;
      const expression = field.value;
      if (!expression.trim()) return;
      try {
        const { validateCondition } = await gql(VALIDATE, { expression });
        if (mine !== asked) return; // a newer keystroke's answer will show instead
        slot.className = validateCondition ? "error" : "ok small";
        slot.textContent = validateCondition ?? "✓ valid";
      } catch (error) {
        if (mine === asked) showError(slot, error);
      }
    }, DEBOUNCE_MS);
  });
}

// Where the policy applies: every (application, environment) with a CD pipeline.
async function applySection(policy) {
  const { applications } = await gql(PAIRS);
  const pairs = applications.flatMap((app) => app.workflows.flatMap((w) => w.cdPipelines.map(
    (p) => ({ appName: app.name, envName: p.environment.name, current: p.policy?.name }))));
  const boxes = pairs.map((p) => h("input", { type: "checkbox", value: `${p.appName}/${p.envName}` }));
  const chosen = () => pairs.filter((_, i) => boxes[i].checked)
    .map(({ appName, envName }) => ({ appName, envName }));
  const slot = errorSlot();
  const run = (button, policyName) => busy(button, slot, async () => {
    if (!chosen().length) throw new Error("Pick at least one application/environment.");
    checkPayload((await gql(APPLY, { policy: policyName, pairs: chosen() }))
      .applyPromotionPolicy);
    location.hash = href("policies", policy.name);
    window.dispatchEvent(new HashChangeEvent("hashchange")); // same hash: render again
  });
  const apply = h("button", { class: "primary", type: "button" }, `Apply ${policy.name}`);
  const remove = h("button", { class: "secondary danger", type: "button" }, "Remove policy");
  apply.addEventListener("click", () => run(apply, policy.name));
  remove.addEventListener("click", () => run(remove, null));
  return h("section", { class: "card apply" },
    h("h2", {}, "Applied to"),
    h("p", { class: "muted small" }, "A pair has at most one policy: applying replaces the one ",
      "it has; requests awaiting approval there turn stale."),
    pairs.length ? h("ul", { class: "pairs" }, pairs.map((p, i) => h("li", {},
      h("label", { class: "check", "data-pair": `${p.appName}/${p.envName}` }, boxes[i],
        `${p.appName} / ${p.envName}`, " ",
        h("span", { class: "muted small" }, p.current ? `policy: ${p.current}` : "no policy")))))
      : h("p", { class: "muted" }, "No application has a CD pipeline yet."),
    h("div", { class: "actions" }, apply, remove, slot));
}
