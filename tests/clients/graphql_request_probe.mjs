// Drives a live Hoist server with the npm package graphql-request, the way a Node user
// would, and prints what each step answered as one JSON object (tests/clients/
// test_node_graphql_request.py asserts it). HOIST_URL and HOIST_TOKEN name the server and
// a super-admin's token; PROBE_NAME is a fresh application name.
import { ClientError, GraphQLClient, gql, request } from "graphql-request";

const endpoint = `${process.env.HOIST_URL}/graphql`;
const admin = new GraphQLClient(endpoint, {
  headers: { Authorization: `Bearer ${process.env.HOIST_TOKEN}` },
});
const name = process.env.PROBE_NAME;

const CREATE = gql`
  mutation Create($name: String!) {
    createApplication(name: $name) {
      application { id name }
      errors { code message field }
    }
  }
`;

// ClientError is what graphql-request throws for an answer with errors (or a bad status).
async function refusal(call) {
  try {
    return { threw: false, data: await call() };
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return {
      threw: true,
      status: error.response.status,
      contentType: error.response.headers.get("content-type"),
      errors: error.response.errors,
      data: error.response.data ?? null,
    };
  }
}

const out = {};

// A query through rawRequest, which also gives the status and headers (graphql-request
// sends Accept: application/graphql-response+json, application/json by itself).
const raw = await admin.rawRequest("query Me { me { id email superAdmin } }");
out.me = raw.data.me;
out.meStatus = raw.status;
out.meContentType = raw.headers.get("content-type");

out.created = (await admin.request(CREATE, { name })).createApplication;

// The id from that answer, refetched as a Relay client does.
out.node = (
  await admin.request(
    gql`
      query Node($id: ID!) {
        node(id: $id) { __typename id ... on Application { name } }
      }
    `,
    { id: out.created.application.id },
  )
).node;
out.nodes = (
  await admin.request(gql`query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, {
    ids: [out.me.id, out.created.application.id],
  })
).nodes;

// Refused: bad input and a duplicate come back in the payloads, nothing is thrown.
out.refused = await refusal(() =>
  admin.request(gql`
    mutation Refused($name: String!) {
      bad: createApplication(name: "Bad Name") { application { id } errors { code field } }
      again: createApplication(name: $name) { application { id } errors { code field } }
      good: createApplication(name: "${name}-sibling") { application { name } errors { code } }
    }
  `, { name }),
);

// No token: the request() function (not a client) and a top-level UNAUTHENTICATED error.
out.unauthenticated = await refusal(() => request(endpoint, gql`{ me { id } }`));

// A document the server cannot validate is a top-level error too.
out.invalid = await refusal(() => admin.request(gql`{ me { nope } }`));

process.stdout.write(`${JSON.stringify(out)}\n`);
