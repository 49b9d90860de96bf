// The Promote dialog of a workflow: tabs "Select Image" and "Approval Pending".
import { h } from "./dom.js";
import { renderApprovalTab } from "./approval-tab.js";
import { renderSelectImageTab } from "./select-image-tab.js";

const TABS = [["select", "Select Image", renderSelectImageTab],
  ["approval", "Approval Pending", renderApprovalTab]];

export function openPromoteDialog({ app, workflow, targets, onClose }) {
  const panel = h("div", { class: "tab-panel", role: "tabpanel" });
  const context = { app, workflow, targets };
  const tabs = TABS.map(([key, label, render]) => h("button", {
    role: "tab", class: "tab", "data-tab": key, "aria-selected": "false",
    onclick: (event) => select(event.currentTarget, render),
  }, label));

  function select(tab, render) {
    for (const t of tabs) t.setAttribute("aria-selected", String(t === tab));
    panel.replaceChildren();
    render(panel, context);
  }

  const dialog = h("dialog", { class: "modal", "aria-label": `Promote ${workflow.name}` },
    h("header", { class: "modal-head" },
      h("h2", {}, "Promote ", h("span", { class: "muted" }, `${app} / ${workflow.name}`)),
      h("button", { class: "secondary close", onclick: () => dialog.close() }, "Close")),
    h("div", { class: "tabs", role: "tablist" }, tabs),
    panel);
  const leave = () => dialog.close(); // a link inside went to another screen
  window.addEventListener("hashchange", leave);
  dialog.addEventListener("close", () => {
    window.removeEventListener("hashchange", leave);
    dialog.remove();
    onClose();
  });
  document.body.append(dialog);
  dialog.showModal();
  select(tabs[0], TABS[0][2]);
}
