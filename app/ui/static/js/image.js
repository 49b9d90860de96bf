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
      when(image.createdAt)));
}

export const sourceText = (source) =>
  source.type === "CI" ? "CI" : source.environment;
