// A tiny router on location.hash: "#/apps/shop" → the screen registered for "/apps/:app".
const routes = [];

export function route(pattern, render) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  routes.push({ regex: new RegExp(`^${source}$`), names, render });
}

// "#/apps/shop/envs/prod" from ("apps", "shop", "envs", "prod"), each part URL-encoded.
export const href = (...parts) => `#/${parts.map((p) => encodeURIComponent(p)).join("/")}`;

export function current() {
  const path = location.hash.replace(/^#/, "") || "/";
  for (const { regex, names, render } of routes) {
    const match = regex.exec(path);
    if (match) {
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
      return { render, params };
    }
  }
  return null;
}

export function start(onChange) {
  window.addEventListener("hashchange", onChange);
  onChange();
}
