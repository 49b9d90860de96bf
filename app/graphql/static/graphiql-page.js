// GraphiQL's start-up, in a file of its own: the page's Content-Security-Policy runs no
// inline script. Served by Hoist itself, so GraphiQL works with no internet access.
// Paste your token in the Headers tab: {"Authorization": "Bearer hoist_..."}
"use strict";
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: true,
    defaultHeaders: '{"Authorization": "Bearer "}',
  })
);
