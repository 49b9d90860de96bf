// Promotion windows (super-admins), on the Policies page: each window with its state now
// and its pairs, Delete, and a form that defines one and applies it to pairs in one step
// (a `kind: promotionWindow` manifest: all or nothing, like `hoist apply window`).
import { checkPayload, gql } from "./api.js";
import { badge, busy, clear, errorSlot, h } from "./dom.js";

const WINDOWS = `{ promotionWindows { name description kind timeZone rrule duration
  dateRanges { start end } state { open opensAt closesAt } bindings { appName envName } } }`;
const APPLY = `mutation($m: String!) { applyWindowManifest(manifest: $m) {
  bindings { envName } errors { code message field } } }`;
const DELETE = `mutation($name: String!) { deletePromotionWindow(name: $name) {
  deleted errors { code message field } } }`;

export const localTime = (iso) => new Date(iso).toLocaleString();

// "open", "open, closes …", "closed, opens …": a pair's (or one window's) state in words.
export function windowState(state) {
  if (state.open) return state.closesAt ? `open, closes ${localTime(state.closesAt)}` : "open";
  return state.opensAt ? `closed, opens ${localTime(state.opensAt)}`
    : "closed, no opening scheduled";
}

export async function windowsSection() {
  const section = h("section", { class: "windows", "aria-label": "Promotion windows" });
  await refresh(section);
  return section;
}

async function refresh(section) {
  const { promotionWindows } = await gql(WINDOWS);
  const rules = (w) => [
    w.rrule && h("div", {}, h("code", {}, w.rrule), ` for ${w.duration}`),
    w.dateRanges.map((r) => h("div", {}, `${r.start} – ${r.end}`)),
  ];
  const rows = promotionWindows.map((w) => {
    const slot = errorSlot();
    const remove = h("button", { class: "secondary" }, "Delete");
    remove.addEventListener("click", () => busy(remove, slot, async () => {
      checkPayload((await gql(DELETE, { name: w.name })).deletePromotionWindow);
      await refresh(section);
    }));
    return h("tr", { "data-window": w.name },
      h("td", {}, w.name, w.description && h("div", { class: "muted small" }, w.description)),
      h("td", {}, badge(w.kind, w.kind === "DENY" ? "blocked" : "ok")),
      h("td", { class: "small" }, rules(w), h("div", { class: "muted" }, w.timeZone)),
      h("td", { class: "small state" }, windowState(w.state)),
      h("td", { class: "small" }, w.bindings.map((b) => `${b.appName}/${b.envName}`)
        .join(", ") || "—"),
      h("td", {}, remove, slot));
  });
  clear(section, h("h2", {}, "Promotion windows"),
    h("p", { class: "muted small" }, "While a pair's window is closed, approved promotions ",
      "wait QUEUED and go out when it opens; deployments there are refused. DENY: a freeze; ",
      "ALLOW: the only times promotions go through."),
    rows.length ? h("table", { class: "table windows" },
      h("thead", {}, h("tr", {}, ["Name", "Kind", "When", "Now", "Applied to", ""]
        .map((c) => h("th", {}, c)))),
      h("tbody", {}, rows))
      : h("p", { class: "muted empty" }, "No promotion window: promotions go through any time."),
    windowForm(section));
}

function field(id, label, control, hint) {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
    hint && h("div", { class: "muted small" }, hint));
}

function windowForm(section) {
  const name = h("input", { type: "text", maxlength: 50, placeholder: "weekend-freeze" });
  const kind = h("select", {}, h("option", { value: "DENY" }, "DENY (freeze)"),
    h("option", { value: "ALLOW" }, "ALLOW (only then)"));
  const zone = h("input", { type: "text", maxlength: 64,
    value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  const rrule = h("input", { type: "text", maxlength: 500,
    placeholder: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16" });
  const duration = h("input", { type: "text", maxlength: 32, placeholder: "64h" });
  const from = h("input", { type: "text", maxlength: 32, placeholder: "2026-12-24" });
  const until = h("input", { type: "text", maxlength: 32, placeholder: "2027-01-02" });
  const pairs = h("input", { type: "text", placeholder: "shop/prod, billing/prod" });
  const create = h("button", { class: "primary" }, "Create window");
  const slot = errorSlot();
  create.addEventListener("click", () => busy(create, slot, async () => {
    const spec = { name: name.value.trim(), kind: kind.value, timeZone: zone.value.trim() };
    if (rrule.value.trim()) spec.rrule = rrule.value.trim();
    if (duration.value.trim()) spec.duration = duration.value.trim();
    if (from.value.trim() || until.value.trim()) {
      spec.dateRanges = [{ start: from.value.trim(), end: until.value.trim() }];
    }
    const applicationEnvironments = pairs.value.split(",").map((p) => p.trim()).filter(Boolean)
      .map((p) => { const [appName, envName = ""] = p.split("/"); return { appName, envName }; });
    // JSON is YAML: the manifest the server reads, built without quoting by hand.
    const manifest = JSON.stringify({ apiVersion: "v1", kind: "promotionWindow",
      spec: { window: spec, payload: { applyToWindowName: spec.name, applicationEnvironments } },
    });
    checkPayload((await gql(APPLY, { m: manifest })).applyWindowManifest);
    await refresh(section);
  }));
  return h("details", { class: "new-window" }, h("summary", {}, "New promotion window"),
    field("window-name", "Window name", name),
    field("window-kind", "Kind", kind),
    field("window-zone", "Time zone", zone, "IANA name; the times below are local to it."),
    field("window-rrule", "Recurrence (RRULE)", rrule, "When each occurrence starts."),
    field("window-duration", "Duration", duration, "How long each occurrence lasts: 64h, 6h."),
    field("window-from", "Date range from", from, "And/or a date range: a date or date-time."),
    field("window-until", "Date range until", until, "A date alone covers that whole day."),
    field("window-pairs", "Apply to", pairs, "application/environment pairs, comma-separated."),
    h("div", { class: "actions" }, create, slot));
}
