// Small charts drawn as inline SVG: a line chart and a stacked bar chart, each an
// <svg role="img"> named by its <title> and described by its <desc>, every point or bar
// with a <title> of its own (the browser shows it on hover). Colours come from classes in
// hoist.css (the page's CSP allows no inline style); values go in as text only.
const NS = "http://www.w3.org/2000/svg";
const WIDTH = 560;
const HEIGHT = 250;
const PAD = { top: 14, right: 12, bottom: 34, left: 58 };
let serial = 0;

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// An <svg> frame: title and desc referenced by aria-labelledby, the plot area's scales.
function frame(title, description, className) {
  serial += 1;
  const ids = [`chart-${serial}-title`, `chart-${serial}-desc`];
  const root = svg("svg", {
    class: `chart ${className}`, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img",
    "aria-labelledby": ids.join(" "),
  }, svg("title", { id: ids[0] }, title), svg("desc", { id: ids[1] }, description));
  const plot = { x0: PAD.left, x1: WIDTH - PAD.right, y0: HEIGHT - PAD.bottom, y1: PAD.top };
  return { root, plot };
}

// A round top for the y axis: 1, 2 or 5 times a power of ten, or a multiple of `step` (the
// durations' units), at or above `max`.
function niceTop(max, steps) {
  if (max <= 0) return steps ? steps[0] : 1;
  if (steps) return steps.find((s) => s >= max) ?? Math.ceil(max / steps.at(-1)) * steps.at(-1);
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max);
}

function axes(root, plot, top, labels, format) {
  const ticks = 4;
  for (let i = 0; i <= ticks; i += 1) {
    const value = (top * i) / ticks;
    const y = plot.y0 - ((plot.y0 - plot.y1) * i) / ticks;
    root.append(svg("line", { class: "grid", x1: plot.x0, x2: plot.x1, y1: y, y2: y }),
      svg("text", { class: "tick y-tick", x: plot.x0 - 8, y: y + 4, "text-anchor": "end" },
        format(value)));
  }
  const every = Math.ceil(labels.length / 12); // at most a dozen x labels fit
  labels.forEach((label, i) => {
    if (i % every) return;
    root.append(svg("text", {
      class: "tick x-tick", x: xAt(plot, labels.length, i), y: plot.y0 + 18,
      "text-anchor": "middle",
    }, label));
  });
}

const xAt = (plot, count, i) => plot.x0 + ((plot.x1 - plot.x0) * (i + 0.5)) / count;

// series: [{ name, className, values: [number|null per label] }]; a null is a gap.
export function lineChart({ title, description, labels, series, format, steps }) {
  const { root, plot } = frame(title, description, "line-chart");
  const values = series.flatMap((s) => s.values).filter((v) => v !== null);
  const top = niceTop(Math.max(0, ...values), steps);
  axes(root, plot, top, labels, format);
  const yAt = (v) => plot.y0 - ((plot.y0 - plot.y1) * v) / top;
  for (const s of series) {
    const group = svg("g", { class: `series ${s.className}`, "data-series": s.name });
    let run = [];
    const flush = () => {
      if (run.length > 1) group.append(svg("polyline", { class: "line", points: run.join(" ") }));
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null) return flush();
      const x = xAt(plot, labels.length, i);
      run.push(`${x},${yAt(v)}`);
      group.append(svg("circle", { class: "point", cx: x, cy: yAt(v), r: 3.5 },
        svg("title", {}, `${s.name}, week of ${labels[i]}: ${format(v)}`)));
    });
    flush();
    root.append(group);
  }
  return root;
}

// stacks: [{ name, className, values: [count per label] }], drawn bottom to top.
export function stackedBars({ title, description, labels, stacks }) {
  const { root, plot } = frame(title, description, "bar-chart");
  const totals = labels.map((_, i) => stacks.reduce((sum, s) => sum + s.values[i], 0));
  // Counts: a whole, round step between the ticks (1, 2 or 5 times a power of ten).
  const top = 4 * Math.max(1, niceTop(Math.max(0, ...totals) / 4));
  axes(root, plot, top, labels, (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)));
  const slot = (plot.x1 - plot.x0) / labels.length;
  const width = Math.max(2, Math.min(36, slot * 0.7));
  const scale = (plot.y0 - plot.y1) / top;
  labels.forEach((label, i) => {
    let y = plot.y0;
    for (const s of stacks) {
      const count = s.values[i];
      if (!count) continue;
      const height = count * scale;
      y -= height;
      root.append(svg("rect", {
        class: `bar ${s.className}`, "data-status": s.name, "data-count": count,
        x: xAt(plot, labels.length, i) - width / 2, y, width, height,
      }, svg("title", {}, `Week of ${label}: ${count} ${s.name}`)));
    }
  });
  return root;
}

// A legend under a chart: one swatch per series.
export function legend(entries) {
  const list = document.createElement("ul");
  list.className = "legend";
  for (const { name, className } of entries) {
    const item = document.createElement("li");
    item.append(svg("svg", { class: `swatch ${className}`, viewBox: "0 0 12 12",
      "aria-hidden": "true" }, svg("rect", { width: 12, height: 12, rx: 2 })), name);
    list.append(item);
  }
  return list;
}
