// Building DOM nodes. API values always go in as text (text nodes, textContent,
// attributes), never as HTML.
import { ApiError } from "./api.js";

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "selected", "open"]);

// h("button", { class: "primary", onclick: fn }, "Save")
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// An element that shows the server's message next to the control that caused it.
export const errorSlot = () => h("span", { class: "error", role: "alert" });
export const showError = (slot, error) => {
  slot.textContent = error instanceof ApiError || error instanceof Error
    ? error.message : String(error ?? "");
};

// Run `work` with the button disabled and showing progress; errors go to `slot`.
export async function busy(button, slot, work) {
  const label = button.textContent;
  button.disabled = true;
  button.classList.add("working");
  button.textContent = "Working…";
  if (slot) slot.textContent = "";
  try {
    return await work();
  } catch (error) {
    if (!slot) throw error;
    showError(slot, error);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove("working");
    button.textContent = label;
  }
}

export const loading = (what = "Loading…") => h("p", { class: "muted loading" }, what);

export function age(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  const steps = [[60, "s", 1], [3600, "min", 60], [86400, "h", 3600], [Infinity, "d", 86400]];
  const [, unit, size] = steps.find(([limit]) => seconds < limit);
  return `${Math.floor(seconds / size)} ${unit} ago`;
}

export const when = (iso) => h("time", { datetime: iso, title: new Date(iso).toLocaleString() },
  age(iso));

export const badge = (text, kind = "") => h("span", { class: `badge ${kind}` }, text);

export const pageTitle = (...crumbs) => h("h1", {}, crumbs.flatMap((c, i) =>
  i === 0 ? [c] : [h("span", { class: "crumb-sep" }, " › "), c]));
