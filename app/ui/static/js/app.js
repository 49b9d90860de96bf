// The dashboard's entry: sign-in gate, header, and the screens by route.
import { clearToken, token } from "./api.js";
import { clear, h } from "./dom.js";
import { current, href, route, start } from "./router.js";
import { forget, loadMe, me } from "./session.js";
import { renderSignIn } from "./signin.js";
import { renderApplications } from "./applications.js";
import { renderBuildDeploy } from "./build-deploy.js";
import { renderDeploy } from "./deploy.js";
import { renderHistory } from "./history.js";
import { renderInsights } from "./insights.js";
import { renderPolicies } from "./policies.js";
import { renderPolicyForm } from "./policy-form.js";
import { renderRequest } from "./request.js";

const main = document.getElementById("main");

route("/", renderApplications);
route("/apps/:app", renderBuildDeploy);
route("/apps/:app/envs/:env/deploy", renderDeploy);
route("/apps/:app/envs/:env/history", renderHistory);
route("/policies", renderPolicies);
route("/new-policy", renderPolicyForm);
route("/policies/:name", renderPolicyForm);
route("/requests/:id", renderRequest);
route("/insights", renderInsights);
route("/insights/:app", renderInsights);

// Emails link to /ui/requests/<id> (the id percent-encoded): turn the path into the hash route.
const linked = /^\/ui\/requests\/([^/]+)\/?$/.exec(location.pathname);
if (linked) {
  history.replaceState(null, "", `/ui/${href("requests", decodeURIComponent(linked[1]))}`);
}

function renderHeader() {
  const user = me();
  clear(document.getElementById("nav"), user && [
    h("a", { href: "#/" }, "Applications"),
    h("a", { href: href("insights") }, "Insights"),
    user.superAdmin && h("a", { href: href("policies") }, "Policies"),
  ]);
  clear(document.getElementById("account"), user && [
    h("span", { class: "who", title: user.email }, `${user.name} (${user.email})`),
    h("button", { class: "secondary", onclick: signOut }, "Sign out"),
  ]);
}

function signOut() {
  clearToken();
  forget();
  showSignIn("You are signed out.");
}

function showSignIn(message, warning = false) {
  forget();
  renderHeader();
  renderSignIn(main, message, warning, () => {
    renderHeader();
    show();
  });
}

async function show() {
  if (!token()) return showSignIn();
  if (!me()) {
    try {
      await loadMe();
    } catch {
      return; // UNAUTHENTICATED → the listener below shows the sign-in
    }
    renderHeader();
  }
  const match = current();
  document.title = "Hoist";
  if (!match) {
    clear(main, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Applications")));
    return;
  }
  // Each visit renders into its own element: a slow screen left behind writes nowhere.
  const view = h("div", { class: "view" });
  clear(main, view);
  try {
    await match.render(view, match.params);
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED") {
      clear(view, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, error.message));
    }
  }
}

window.addEventListener("hoist:unauthenticated", (event) => {
  showSignIn(`Your token was not accepted (${event.detail}). Paste a valid API token to sign in again.`,
    true);
});

start(show);
