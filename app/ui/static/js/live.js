// Live updates: a GraphQL subscription over SSE (fetch, so the token goes in the
// Authorization header as for every call), falling back to polling while the stream is
// down. `live(indicator, query, variables, changed)` calls changed(data) at each event, and
// once every RETRY_MS while disconnected (then tries to connect again); the indicator
// says "live" or "polling". It stops by itself once the indicator has left the page.
import { token } from "./api.js";
import { h } from "./dom.js";

const RETRY_MS = 5000;
const GONE_CHECK_MS = 2000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function live(indicator, query, variables, changed) {
  const gone = () => !indicator.isConnected;
  const state = (text, on) => {
    indicator.textContent = text;
    indicator.classList.toggle("on", on);
    indicator.title = on ? "Changes appear as they happen" : "Reconnecting; refreshing meanwhile";
  };
  let controller = null;
  const watch = setInterval(() => {
    if (gone()) {
      clearInterval(watch);
      controller?.abort();
    }
  }, GONE_CHECK_MS);

  async function stream() {
    controller = new AbortController();
    const response = await fetch("/graphql", {
      method: "POST",
      signal: controller.signal,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream",
        Authorization: `Bearer ${token() ?? ""}` },
      body: JSON.stringify({ query, variables }),
    });
    if (!response.ok || !response.body) return;
    state("live", true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || gone()) return;
      buffer += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: *(.*)$/m.exec(block)?.[1];
        if (event === "complete") return;
        if (event !== "next") continue; // a heartbeat (": ping")
        const data = JSON.parse(/^data: *(.*)$/m.exec(block)?.[1] || "{}");
        if (data.errors) return; // e.g. the token was revoked: poll, as the page does
        changed(data.data);
      }
    }
  }

  (async () => {
    while (!gone()) {
      try {
        await stream();
      } catch {
        // dropped (network, server restart, navigation): poll and try again
      }
      if (gone()) break;
      state("polling", false);
      await sleep(RETRY_MS);
      if (gone()) break;
      changed(null); // no event: a refresh
    }
    clearInterval(watch);
  })();
}

// `fn` at most once per `ms`, after the last call: a decision tells several events.
export function debounced(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// An indicator for live(): "connecting…" until it knows.
export const liveIndicator = () => h("span", { class: "live-state", role: "status" },
  "connecting…");
