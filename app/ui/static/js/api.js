// The one door to Hoist: POST /graphql with the token kept in sessionStorage.
const TOKEN_KEY = "hoist.token";

export class ApiError extends Error {
  constructor(message, code, field = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

// Run a query; resolves to `data`, rejects with an ApiError carrying extensions.code.
// UNAUTHENTICATED also forgets the token and tells the app (which shows the sign-in).
export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token() ?? ""}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("Hoist did not answer: is the server running?", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`Hoist answered HTTP ${response.status}`, "HTTP");
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    const code = first.extensions?.code ?? "ERROR";
    if (code === "UNAUTHENTICATED") {
      clearToken();
      window.dispatchEvent(new CustomEvent("hoist:unauthenticated", { detail: first.message }));
    }
    throw new ApiError(first.message, code);
  }
  return body.data;
}

// A payload's `errors: [UserError!]!` as one ApiError (nothing was written).
export function checkPayload(payload) {
  if (payload.errors?.length) {
    const [first] = payload.errors;
    throw new ApiError(payload.errors.map((e) => e.message).join("; "), first.code, first.field);
  }
  return payload;
}

// Fields of an image shown in every list.
export const IMAGE_FIELDS = `id image tag labels createdAt
  gitCommits { repo branch commitHash commitMessage author }
  builtBy { name email }`;
// What Select Image and Deploy show of an image's evidence (imageSummary renders it).
export const EVIDENCE_FIELDS = `evidence { signatures { keyName verified }
  vulnerabilities { scanner critical high medium low fixableCritical fixableHigh }
  provenance { builderId sourceRepository sourceCommit verified keyName } }`;
