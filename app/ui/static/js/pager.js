// A connection list that grows with "Load more", following pageInfo.endCursor.
import { busy, errorSlot, h, showError } from "./dom.js";

// The newest pagedList call of each container: only it may fill the container, so a slow
// load started earlier (before a filter changed, or a live reload) never replaces a newer one.
const latest = new WeakMap();

// load(after) → a connection; each node goes through renderNode(node, list).
export async function pagedList({ container, load, renderNode, empty = "Nothing here." }) {
  const call = {};
  latest.set(container, call);
  const list = h("div", { class: "list" });
  const more = h("button", { class: "secondary", hidden: true }, "Load more");
  const slot = errorSlot();
  const footer = h("div", { class: "pager" }, more, h("span", { class: "muted count" }), slot);
  let after = null;
  let shown = 0;

  async function page() {
    const connection = await load(after);
    for (const edge of connection.edges) renderNode(edge.node, list);
    shown += connection.edges.length;
    after = connection.pageInfo.endCursor ?? after;
    more.hidden = !connection.pageInfo.hasNextPage;
    footer.querySelector(".count").textContent = connection.totalCount
      ? `${shown} of ${connection.totalCount} shown` : "";
    if (!connection.totalCount) list.replaceChildren(h("p", { class: "muted empty" }, empty));
  }
  more.addEventListener("click", () => busy(more, slot, page));
  try {
    await page();
  } catch (error) {
    showError(slot, error);
  }
  // Shown once the first page is in: a reload (live) never flashes an empty list.
  if (latest.get(container) === call) container.replaceChildren(list, footer);
}
