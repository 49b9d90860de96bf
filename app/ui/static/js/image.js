// How an image shows in every list: tag, reference, labels, commit, builder, age.
import { badge, h, when } from "./dom.js";

export function commitLine(image) {
  const commit = image.gitCommits[0];
  if (!commit) return h("span", { class: "muted" }, "no commit recorded");
  const hash = commit.commitHash ? commit.commitHash.slice(0, 8) : "—";
  return h("span", { class: "commit", title: commit.repo },
    h("code", {}, hash), commit.branch ? ` on ${commit.branch}` : "",
    commit.commitMessage ? ` · ${commit.commitMessage}` : "");
}

export function imageSummary(image) {
  return h("div", { class: "image-summary" },
    h("div", { class: "image-title" },
      h("strong", { class: "tag" }, image.tag || "(digest)"),
      image.labels.map((label) => badge(label, "label"))),
    h("div", { class: "image-ref muted" }, image.image),
    h("div", { class: "image-meta" },
      commitLine(image),
      h("span", {}, "built by ", image.builtBy ? image.builtBy.name : "unknown"),
      when(image.createdAt)),
    image.evidence && evidenceLine(image.evidence));
}

// Signature, vulnerability counts and provenance: what the evidence variables see.
export function evidenceLine(evidence) {
  const verified = evidence.signatures.filter((s) => s.verified);
  const signature = verified.length
    ? badge(`signed by ${verified.map((s) => s.keyName).join(", ")}`, "ok")
    : evidence.signatures.length ? badge("signature not verified", "blocked")
      : badge("unsigned", "muted");
  const v = evidence.vulnerabilities;
  const vulns = v === null ? badge("never scanned", "muted")
    : badge(`${v.critical} critical (${v.fixableCritical} fixable) · ${v.high} high ` +
      `(${v.fixableHigh} fixable) · ${v.medium} medium · ${v.low} low`,
    v.fixableCritical > 0 ? "blocked" : v.critical + v.high > 0 ? "queued" : "ok");
  const p = evidence.provenance;
  const provenance = p === null ? h("span", { class: "muted" }, "no provenance")
    : h("span", { title: p.builderId }, "built from ",
      h("code", {}, p.sourceRepository || "unknown source"),
      p.sourceCommit ? ["@", h("code", {}, p.sourceCommit.slice(0, 8))] : "",
      " ", badge(p.verified ? `provenance verified (${p.keyName})` : "provenance unverified",
        p.verified ? "ok" : "blocked"));
  return h("div", { class: "image-evidence small" },
    h("span", { class: "evidence-signature" }, signature),
    h("span", { class: "evidence-vulnerabilities", title: v ? v.scanner : null }, vulns),
    h("span", { class: "evidence-provenance" }, provenance));
}

export const sourceText = (source) =>
  source.type === "CI" ? "CI" : source.environment;
