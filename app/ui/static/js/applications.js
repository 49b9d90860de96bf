// The applications you hold a role on.
import { gql } from "./api.js";
import { clear, h, loading } from "./dom.js";
import { href } from "./router.js";

export async function renderApplications(main) {
  clear(main, h("h1", {}, "Applications"), loading());
  const { applications } = await gql(`{ applications { name workflows { name cdPipelines {
    environment { name } } } } }`);
  const rows = applications.map((app) => h("tr", {},
    h("td", {}, h("a", { href: href("apps", app.name), class: "app-link" }, app.name)),
    h("td", {}, app.workflows.map((w) => w.name).join(", ") || "—"),
    h("td", {}, [...new Set(app.workflows.flatMap((w) =>
      w.cdPipelines.map((p) => p.environment.name)))].join(" · ") || "—")));
  clear(main, h("h1", {}, "Applications"),
    applications.length
      ? h("table", { class: "table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Application"), h("th", {}, "Workflows"),
          h("th", {}, "Environments"))),
        h("tbody", {}, rows))
      : h("p", { class: "muted empty" },
        "No applications yet, or none you hold a role on. Ask a super-admin for access."));
}
