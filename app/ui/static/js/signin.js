// Sign-in: paste an API token; it is kept in sessionStorage (gone when the tab closes).
import { setToken } from "./api.js";
import { busy, clear, errorSlot, h } from "./dom.js";
import { loadMe } from "./session.js";

export function renderSignIn(main, message, warning, onSignedIn) {
  const input = h("input", { id: "token", type: "password", autocomplete: "off",
    spellcheck: "false", required: true, placeholder: "hoist_…" });
  const button = h("button", { class: "primary", type: "submit" }, "Sign in");
  const slot = errorSlot();
  const form = h("form", { class: "card signin" },
    h("h1", {}, "Sign in to Hoist"),
    message && h("p", { class: warning ? "notice warn" : "notice", role: "status" }, message),
    h("label", { for: "token" }, "API token"),
    input,
    h("p", { class: "muted small" },
      "Create one with createApiToken, or `hoist admin bootstrap` for the first super-admin. ",
      "It stays in this browser tab only."),
    h("div", { class: "actions" }, button, slot));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, slot, async () => {
      setToken(input.value.trim());
      await loadMe();
      onSignedIn();
    });
  });
  clear(main, form);
  input.focus();
}
