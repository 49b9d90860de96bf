// Who is signed in, and what their role bindings let them do (to show or hide buttons:
// the server decides every action anyway).
import { gql } from "./api.js";

let current = null;

export async function loadMe() {
  const data = await gql(`{ me { id email name superAdmin roles { role application environment } } }`);
  current = data.me;
  return current;
}

export const me = () => current;
export const forget = () => { current = null; };

// BUILD_DEPLOY, ARTIFACT_PROMOTER and DEPLOYMENT_APPROVER each imply VIEWER.
export function can(role, application, environment) {
  if (!current) return false;
  if (current.superAdmin) return true;
  return current.roles.some((b) =>
    (b.role === role || role === "VIEWER")
    && (b.application === "*" || b.application === application)
    && (b.environment === "*" || b.environment === environment));
}
