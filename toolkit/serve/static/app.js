// clarifai-archive serve: the page. Plain JavaScript, no build step.
// Every string from the archive (ids, names, metadata, text) goes into the page with
// textContent or setAttribute, never innerHTML.
"use strict";

const TOKEN = document.querySelector('meta[name="toolkit-token"]').content;
const SVG = "http://www.w3.org/2000/svg";
const PER_PAGE = 60;

const view = {
  filters: { concept: [], no_concept: [], metadata: [], type: "", has_regions: false },
  like: null,
  page: 1,
  items: [],
  total: 0,
  complete: false,
  selection: new Set(),
  lastIndex: null,
  similar: null, // {ids, scores}
  viewerRow: null,
  viewerId: null,
  pollTimer: null,
};

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

function say(text, ok) {
  $("message").textContent = text || "";
  $("message").classList.toggle("ok", Boolean(ok));
}

function queryParams(extra) {
  const p = new URLSearchParams();
  if (view.like !== null) {
    p.append("like", view.like);
  } else {
    view.filters.concept.forEach((c) => p.append("concept", c));
    view.filters.no_concept.forEach((c) => p.append("no_concept", c));
    view.filters.metadata.forEach((m) => p.append("metadata", m));
    if (view.filters.type) p.append("type", view.filters.type);
    if (view.filters.has_regions) p.append("has_regions", "1");
  }
  for (const [k, v] of Object.entries(extra || {})) p.append(k, v);
  return p;
}

async function getJSON(path, params) {
  const url = params ? `${path}?${params.toString()}` : path;
  const resp = await fetch(url, { credentials: "same-origin" });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || `HTTP ${resp.status}`);
  return body;
}

async function postJSON(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Toolkit-Token": TOKEN },
    body: JSON.stringify(body),
  });
  const out = await resp.json();
  if (!resp.ok) throw new Error(out.error || `HTTP ${resp.status}`);
  return out;
}

// -- side panel -------------------------------------------------------------------------

const METRIC_NAMES = [
  ["inputs_count", "inputs"],
  ["unlabeled_inputs_count", "unlabeled"],
  ["inputs_with_metadata_count", "with metadata"],
  ["regions_count", "regions"],
  ["bounding_boxes_count", "boxes"],
  ["polygons_count", "polygons"],
  ["points_count", "points"],
  ["masks_count", "masks"],
  ["frames_count", "frames"],
  ["embeddings_count", "embeddings"],
  ["positive_input_tags_count", "input labels"],
  ["positive_region_tags_count", "region labels"],
];

function renderState(state) {
  $("title").textContent = state.name;
  document.title = `${state.name} - clarifai-archive serve`;
  document.querySelectorAll(".catalog-only").forEach((node) => { node.hidden = !state.catalog; });
  $("output-root").textContent = state.output_root;
  const fmt = $("action-format");
  if (!fmt.options.length) {
    state.formats.forEach((f) => fmt.appendChild(el("option", { value: f }, f)));
    fmt.value = "jsonl";
  }
  const pr = state.progress;
  let line = pr.done ? `${pr.inputs} inputs read in ${pr.seconds.toFixed(1)} s`
    : `reading: ${pr.entries_done}/${pr.entries_total} batch entries, ${pr.inputs} inputs`;
  if (pr.error) line = `reading stopped: ${pr.error}`;
  const sim = state.similarity;
  line += sim.available ? ` · similarity index: ${sim.inputs} inputs`
    : (sim.built_on_start === "building" ? " · building the similarity index" : " · no similarity index");
  $("progress").textContent = line;
  $("viewer-similar").disabled = !sim.available && sim.built_on_start !== "building";
  const dl = $("metrics");
  dl.replaceChildren();
  const m = state.metrics;
  const metric = (label, value, onClick) => {
    const dt = el("dt");
    if (onClick) {
      const button = el("button", { type: "button", class: "metric-filter", title: "filter" }, label);
      button.addEventListener("click", onClick);
      dt.appendChild(button);
    } else {
      dt.textContent = label;
    }
    dl.append(dt, el("dd", {}, value));
  };
  if (m) {
    for (const [key, label] of METRIC_NAMES) {
      const filter = key === "regions_count" ? () => setFilter("has_regions", true) : null;
      metric(label, m[key], filter);
    }
    for (const [type, n] of Object.entries(m.input_types || {})) {
      metric(`type ${type}`, n, type === "unknown" ? null : () => setFilter("type", type));
    }
  } else {
    dl.appendChild(el("dt", {}, "metrics"));
    dl.appendChild(el("dd", {}, "after reading"));
  }
  const ul = $("concepts");
  ul.replaceChildren();
  for (const c of state.concepts) {
    const li = el("li");
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = c.colour;
    const button = el("button", { type: "button", class: "concept", "data-concept": c.id, title: c.id });
    button.appendChild(document.createTextNode(c.name || c.id));
    button.appendChild(el("span", { class: "count" }, ` ${c.inputs + c.regions}`));
    button.addEventListener("click", () => addFilter("concept", c.id));
    const negate = el("button", { type: "button", class: "negate", title: "without it", "data-concept": c.id }, "\u2212");
    negate.addEventListener("click", () => addFilter("no_concept", c.id));
    li.append(swatch, button, negate);
    ul.appendChild(li);
  }
  return state;
}

async function loadState() {
  try {
    const state = renderState(await getJSON("/api/state"));
    const building = state.similarity.built_on_start === "building";
    if (!state.progress.done || building) setTimeout(loadState, 700);
  } catch (err) {
    say(err.message);
  }
}

function renderFilters() {
  const box = $("active-filters");
  box.replaceChildren();
  const chip = (kind, value, label, negative) => {
    const span = el("span", { class: negative ? "chip negative" : "chip" });
    span.appendChild(document.createTextNode(label));
    const x = el("button", { type: "button", title: "remove" }, "\u00d7");
    x.addEventListener("click", () => {
      view.filters[kind] = view.filters[kind].filter((v) => v !== value);
      reload();
    });
    span.appendChild(x);
    box.appendChild(span);
  };
  view.filters.concept.forEach((c) => chip("concept", c, `concept: ${c}`, false));
  view.filters.no_concept.forEach((c) => chip("no_concept", c, `not: ${c}`, true));
  view.filters.metadata.forEach((m) => chip("metadata", m, `metadata: ${m}`, false));
}

function setFilter(kind, value) {
  view.filters[kind] = value;
  if (kind === "type") $("filter-type").value = value;
  if (kind === "has_regions") $("filter-regions").checked = value;
  view.like = null;
  reload();
}

function addFilter(kind, value) {
  if (!view.filters[kind].includes(value)) view.filters[kind].push(value);
  view.like = null;
  reload();
}

function reload() {
  view.page = 1;
  renderFilters();
  loadPage();
}

// -- the grid ---------------------------------------------------------------------------

async function loadPage() {
  clearTimeout(view.pollTimer);
  $("similar-bar").hidden = view.like === null;
  $("active-filters").classList.toggle("paused", view.like !== null);
  try {
    const data = await getJSON("/api/inputs", queryParams({ page: view.page, per_page: PER_PAGE }));
    view.items = data.items;
    view.total = data.total;
    view.complete = data.complete;
    renderGrid();
    say("");
    const more = data.complete ? "" : " so far";
    const pages = Math.max(1, Math.ceil(data.total / PER_PAGE));
    $("page-info").textContent = `page ${view.page} of ${pages}${more} · ${data.total} inputs${more}`
      + (data.truncated ? " (best hits kept)" : "");
    if (!data.complete) view.pollTimer = setTimeout(loadPage, 600);
  } catch (err) {
    say(err.message);
  }
}

function renderGrid() {
  const grid = $("grid");
  grid.replaceChildren();
  view.items.forEach((item, index) => grid.appendChild(card(item, index)));
  renderSelectionInfo();
}

function card(item, index) {
  const node = el("div", { class: "card", "data-id": item.id, "data-row": item.row });
  if (view.selection.has(item.id)) node.classList.add("selected");
  const thumb = el("div", { class: "thumb" });
  if (item.type === "text") {
    thumb.className = "text-card";
    thumb.textContent = item.text || "";
  } else {
    const img = el("img", { src: `/api/thumb/${item.row}`, alt: "", loading: "lazy" });
    img.addEventListener("error", () => {
      thumb.replaceChildren(el("span", { class: "no-media" }, `${item.type}: no picture`));
    });
    thumb.appendChild(img);
  }
  node.appendChild(thumb);
  const meta = el("div", { class: "meta" });
  const open = el("button", { type: "button", class: "open", title: "open" }, "open");
  open.addEventListener("click", (ev) => { ev.stopPropagation(); openViewer(item.row); });
  meta.appendChild(open);
  meta.appendChild(el("div", { class: "id" }, item.id));
  const tags = el("div", { class: "tags" });
  item.concepts.forEach((c) => tags.appendChild(el("span", { class: "tag", title: c.id }, c.name || c.id)));
  item.negatives.forEach((c) => tags.appendChild(el("span", { class: "tag negative", title: `not ${c}` }, c)));
  if (item.regions) tags.appendChild(el("span", { class: "tag" }, `${item.regions} regions`));
  meta.appendChild(tags);
  node.appendChild(meta);
  if (item.score !== undefined) node.appendChild(el("span", { class: "score" }, item.score.toFixed(3)));
  node.addEventListener("click", (ev) => clickCard(ev, index));
  node.addEventListener("dblclick", () => openViewer(item.row));
  return node;
}

function clickCard(ev, index) {
  const id = view.items[index].id;
  if (ev.shiftKey && view.lastIndex !== null) {
    const [a, b] = [Math.min(view.lastIndex, index), Math.max(view.lastIndex, index)];
    for (let i = a; i <= b; i++) view.selection.add(view.items[i].id);
  } else if (view.selection.has(id)) {
    view.selection.delete(id);
  } else {
    view.selection.add(id);
  }
  view.lastIndex = index;
  refreshSelection();
}

function refreshSelection() {
  document.querySelectorAll("#grid .card").forEach((node) => {
    node.classList.toggle("selected", view.selection.has(node.getAttribute("data-id")));
  });
  renderSelectionInfo();
}

function renderSelectionInfo() {
  $("selection-info").textContent = `${view.selection.size} selected`;
}

async function selectAllMatching() {
  try {
    say("collecting every matching input...");
    const data = await getJSON("/api/ids", queryParams());
    data.ids.forEach((id) => view.selection.add(id));
    refreshSelection();
    say("");
  } catch (err) {
    say(err.message);
  }
}

// -- more like this ---------------------------------------------------------------------

async function moreLikeThis(id) {
  closeViewer();
  view.like = id;
  view.page = 1;
  $("similar-info").textContent = `More like ${id} (filters paused)`;
  await loadPage();
  try {
    const data = await getJSON("/api/ids", queryParams());
    view.similar = { ids: data.ids, scores: data.scores || [] };
    const scores = view.similar.scores;
    if (scores.length) {
      const slider = $("threshold");
      const lo = Math.min(...scores.slice(-1), scores[0]);
      slider.min = String(Math.floor(lo * 1000) / 1000);
      slider.max = String(Math.ceil(scores[0] * 1000) / 1000);
      slider.value = String(scores[Math.min(scores.length - 1, 9)]);
      showThreshold();
    }
  } catch (err) {
    say(err.message);
  }
}

function showThreshold() {
  const t = Number($("threshold").value);
  const n = view.similar ? view.similar.scores.filter((s) => s >= t).length : 0;
  $("threshold-value").textContent = `${t.toFixed(3)} (${n} inputs)`;
}

function selectAbove() {
  if (!view.similar) return;
  const t = Number($("threshold").value);
  view.similar.ids.forEach((id, i) => { if (view.similar.scores[i] >= t) view.selection.add(id); });
  refreshSelection();
}

// -- the input view -----------------------------------------------------------------------

async function openViewer(row) {
  let data;
  try {
    data = await getJSON(`/api/input/${row}`);
  } catch (err) {
    say(err.message);
    return;
  }
  view.viewerRow = row;
  view.viewerId = data.id;
  $("viewer-id").textContent = data.id;
  const stage = $("stage");
  stage.replaceChildren();
  if (data.type === "image") {
    const frame = el("div", { class: "frame" });
    const img = el("img", { src: `/api/preview/${row}`, alt: "" });
    img.addEventListener("load", () => frame.appendChild(overlay(data, img.naturalWidth, img.naturalHeight)));
    img.addEventListener("error", () => stage.replaceChildren(el("p", { class: "muted" }, "no picture for this input")));
    frame.appendChild(img);
    stage.appendChild(frame);
  } else if (data.type === "text") {
    stage.appendChild(el("div", { class: "text-view" }, data.text || ""));
  } else {
    stage.appendChild(el("p", { class: "muted" }, `${data.type} input`));
  }
  const concepts = $("viewer-concepts");
  concepts.replaceChildren();
  data.concepts.forEach((c) => {
    const label = `${c.name || c.id} (${c.id})${c.value > 0 ? "" : " - negative"}`;
    concepts.appendChild(el("li", {}, label));
  });
  const regions = $("viewer-regions");
  regions.replaceChildren();
  data.regions.forEach((r) => {
    const names = r.concepts.map((c) => c.name || c.id).join(", ") || "(no concept)";
    regions.appendChild(el("li", {}, `${names}: ${r.shapes.map((s) => s.kind).join(", ")}`));
  });
  if (data.regions_total > data.regions.length) {
    regions.appendChild(el("li", {}, `${data.regions_total - data.regions.length} on video frames`));
  }
  $("viewer-metadata").textContent = JSON.stringify(data.metadata, null, 2);
  $("viewer-json").textContent = JSON.stringify(data.json, null, 2);
  $("viewer").hidden = false;
}

function overlay(data, w, h) {
  const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", "data-regions": data.regions.length });
  for (const region of data.regions) {
    const g = svgEl("g", { class: "region" });
    const title = svgEl("title");
    title.textContent = region.concepts.map((c) => c.name || c.id).join(", ") || region.id || "region";
    g.appendChild(title);
    const colour = region.colour;
    for (const s of region.shapes) {
      let shape = null;
      if (s.kind === "box") {
        shape = svgEl("rect", {
          x: s.left * w, y: s.top * h, width: Math.max(0, (s.right - s.left) * w), height: Math.max(0, (s.bottom - s.top) * h),
        });
      } else if (s.kind === "polygon") {
        shape = svgEl("polygon", { points: s.points.map(([x, y]) => `${x * w},${y * h}`).join(" ") });
        shape.style.fill = colour;
      } else if (s.kind === "point") {
        shape = svgEl("circle", { cx: s.x * w, cy: s.y * h, r: Math.max(3, Math.min(w, h) / 150) });
        shape.style.fill = colour;
      } else if (s.kind === "mask") {
        shape = svgEl("image", { href: s.url, x: 0, y: 0, width: w, height: h, preserveAspectRatio: "none" });
      }
      if (shape) {
        shape.setAttribute("class", `shape shape-${s.kind}`);
        shape.style.stroke = colour;
        g.appendChild(shape);
      }
    }
    svg.appendChild(g);
  }
  return svg;
}

function closeViewer() { $("viewer").hidden = true; }

// -- actions ------------------------------------------------------------------------------

async function act(name, extra) {
  if (!view.selection.size) { say("select some inputs first"); return; }
  const body = { ids: Array.from(view.selection), ...extra };
  say(`${name}: working on ${view.selection.size} inputs...`);
  try {
    const result = await postJSON(`/api/action/${name}`, body);
    $("action-command").textContent = result.command;
    $("action-report").textContent = JSON.stringify(result.report, null, 2);
    $("action-result").hidden = false;
    say(`${name}: done, ${result.output}`, true);
  } catch (err) {
    say(`${name}: ${err.message}`);
  }
}

// -- wiring -------------------------------------------------------------------------------

function wire() {
  $("prev").addEventListener("click", () => { if (view.page > 1) { view.page--; loadPage(); } });
  $("next").addEventListener("click", () => {
    if (view.page * PER_PAGE < view.total || !view.complete) { view.page++; loadPage(); }
  });
  $("select-page").addEventListener("click", () => { view.items.forEach((i) => view.selection.add(i.id)); refreshSelection(); });
  $("select-all").addEventListener("click", selectAllMatching);
  $("select-none").addEventListener("click", () => { view.selection.clear(); refreshSelection(); });
  $("filter-type").addEventListener("change", (ev) => { view.filters.type = ev.target.value; view.like = null; reload(); });
  $("filter-regions").addEventListener("change", (ev) => { view.filters.has_regions = ev.target.checked; view.like = null; reload(); });
  $("metadata-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("metadata-input").value.trim();
    if (value) { addFilter("metadata", value); $("metadata-input").value = ""; }
  });
  $("clear-filters").addEventListener("click", () => {
    view.filters = { concept: [], no_concept: [], metadata: [], type: "", has_regions: false };
    $("filter-type").value = "";
    $("filter-regions").checked = false;
    view.like = null;
    reload();
  });
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer").addEventListener("click", (ev) => { if (ev.target === $("viewer")) closeViewer(); });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeViewer(); });
  $("viewer-similar").addEventListener("click", () => moreLikeThis(view.viewerId));
  $("threshold").addEventListener("input", showThreshold);
  $("select-above").addEventListener("click", selectAbove);
  $("similar-clear").addEventListener("click", () => { view.like = null; view.similar = null; reload(); });
  const name = () => $("action-name").value.trim();
  $("do-export").addEventListener("click", () => act("export", { name: name(), format: $("action-format").value, media: $("action-media").value }));
  $("do-remove").addEventListener("click", () => act("remove", { name: name() }));
  $("do-filter").addEventListener("click", () => act("filter", { name: name() }));
  $("do-version-without").addEventListener("click", () => act("version-without", {}));
  $("do-version-only").addEventListener("click", () => act("version-only", {}));
  $("do-merge").addEventListener("click", () => act("merge", { into: $("merge-into").value.trim(), on_conflict: $("merge-conflict").value }));
}

wire();
loadState();
loadPage();
