// The clauses of a policy condition that kept an image back (issue 20), highlighted: red
// when they block the promotion, amber when a WARN policy lets it go ahead with them.
import { h } from "./dom.js";

export const CLAUSE_FIELDS = `condition expression value result error`;

export function failedClauses(clauses, warn) {
  if (!clauses || clauses.length === 0) return null;
  return h("ul", { class: `failed-clauses ${warn ? "warning" : "blocking"}` },
    h("li", { class: "clauses-title small" },
      warn ? "Policy warnings (not enforced):" : "Failed clauses:"),
    clauses.map((c) => h("li", { class: "failed-clause small", "data-condition": c.condition },
      `${c.condition} condition `, h("code", {}, c.expression), " → ",
      h("code", { class: "clause-value" }, c.value))));
}
