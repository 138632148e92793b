// The page talks to the same JSON API as everyone else.
const COLOURS = ["#1f5fbf", "#a1371f", "#2e7d32", "#6a3fa0", "#b45309", "#0e7490", "#be185d",
                 "#4d7c0f", "#7c2d12", "#1e40af", "#9d174d", "#115e59", "#57534e"];
let themeOrder = [];

function chip(theme) {
  const i = Math.max(0, themeOrder.indexOf(theme.id));
  const c = el("span", { class: "chip", title: theme.id }, theme.label || theme.id);
  // Set through the style object: a style="" attribute is inline style, which the page's CSP refuses.
  c.style.background = COLOURS[i % COLOURS.length];
  if (theme.score !== undefined) c.append(el("span", { class: "score" }, Number(theme.score).toFixed(2)));
  return c;
}

async function loadThemes() {
  const body = await apiCall("/api/v1/themes");
  themeOrder = body.themes.map(t => t.id);
  window.themeLabels = Object.fromEntries(body.themes.map(t => [t.id, t.label]));
}

document.getElementById("tag-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("tag-status");
  const results = document.getElementById("tag-results");
  const summary = document.getElementById("tag-summary");
  results.replaceChildren(); summary.replaceChildren();
  status.textContent = "Tagging…"; status.className = "";
  try {
    const body = await apiCall("/api/v1/tag", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: document.getElementById("tag-text").value }) });
    status.textContent = `${body.paragraphs.length} paragraph(s) tagged by model ${body.model.version}.`;
    const docChips = el("div", { class: "chips" });
    for (const t of body.document.themes) docChips.append(chip({ id: t.id, label: `${t.label} (${t.paragraphs.length})` }));
    summary.append(el("h3", {}, "Document themes"), body.document.themes.length ? docChips : el("p", { class: "none" }, "No theme found"));
    for (const p of body.paragraphs) {
      const chips = el("div", { class: "chips" });
      for (const t of p.themes) chips.append(chip(t));
      results.append(el("li", {}, el("p", {}, p.text), p.themes.length ? chips : el("p", { class: "none" }, "No theme")));
    }
  } catch (err) { status.textContent = err.message; status.className = "error"; }
});

// Search: one page of the ranking at a time; the pager and the export links follow the page shown.
let searchOffset = 0;

async function runSearch(offset) {
  const form = new FormData(document.getElementById("search-form"));
  const params = new URLSearchParams();
  for (const [k, v] of form.entries()) if (v) params.append(k, v);
  params.set("offset", String(offset));
  const k = Number(params.get("k") || 10);
  const status = document.getElementById("search-status");
  const results = document.getElementById("search-results");
  const pager = document.getElementById("search-pager");
  const exports = document.getElementById("search-exports");
  results.replaceChildren();
  pager.hidden = true; exports.hidden = true;
  status.textContent = "Searching…"; status.className = "";
  try {
    const body = await apiCall(`/api/v1/search?${params}`);
    searchOffset = body.offset;
    const first = body.offset + 1, last = body.offset + body.results.length;
    status.textContent = body.results.length ? `${body.results.length} result(s): ${first}–${last}${body.total !== null ? ` of ${body.total}` : ""}.`
                                             : (body.offset ? "No more results." : "No matching statements.");
    results.start = first;
    for (const r of body.results) {
      const h = r.highlight;
      const text = el("p", {}, r.text.slice(0, h.start), el("mark", {}, r.text.slice(h.start, h.end)), r.text.slice(h.end));
      const chips = el("div", { class: "chips" });
      for (const t of r.themes) chips.append(chip({ id: t.id, label: (window.themeLabels || {})[t.id] || t.id, score: t.score }));
      const meta = el("p", { class: "meta" }, `${r.organisation || "Unknown organisation"} · ${r.date || "undated"} · ${r.title || ""}`);
      const item = el("li", { "data-id": r.id }, meta, text, chips);
      if (r.document_id != null && r.paragraph_index != null) {  // != null: neither null nor missing
        item.append(el("p", { class: "result-links" }, el("a", { class: "open-document",
          href: `/documents/${encodeURIComponent(r.document_id)}#p${r.paragraph_index}` }, "Open in its document")));
      }
      if (r.copies.length) {
        item.append(el("p", { class: "copies" }, "Also published by: " +
          r.copies.map(c => `${c.organisation || "unknown organisation"} (${c.date || "undated"})`).join("; ")));
      }
      results.append(item);
    }
    document.getElementById("search-prev").disabled = body.offset === 0;
    document.getElementById("search-next").disabled = !body.has_more;
    document.getElementById("search-range").textContent = body.results.length ? `${first}–${last}` : "";
    pager.hidden = !(body.offset > 0 || body.has_more);
    for (const fmt of ["csv", "jsonl"]) {
      const link = new URLSearchParams(params); link.set("format", fmt);
      document.getElementById(`export-${fmt}`).href = `/api/v1/search?${link}`;
    }
    exports.hidden = body.results.length === 0;
  } catch (err) { status.textContent = err.message; status.className = "error"; }
}

document.getElementById("search-form").addEventListener("submit", (event) => { event.preventDefault(); runSearch(0); });
document.getElementById("search-next").addEventListener("click", () => {
  runSearch(searchOffset + Number(document.getElementById("search-k").value || 10));
});
document.getElementById("search-prev").addEventListener("click", () => {
  runSearch(Math.max(0, searchOffset - Number(document.getElementById("search-k").value || 10)));
});

function toggleChip(id, label, on, uncertain) {
  const b = el("button", { type: "button", class: "chip toggle", "aria-pressed": on ? "true" : "false", "data-theme": id,
                           title: uncertain ? "the model is unsure about this theme" : "" }, label + (uncertain ? " ?" : ""));
  b.style.background = on ? COLOURS[Math.max(0, themeOrder.indexOf(id)) % COLOURS.length] : "#8a93a3";
  b.addEventListener("click", () => {
    const now = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", now ? "true" : "false");
    b.style.background = now ? COLOURS[Math.max(0, themeOrder.indexOf(id)) % COLOURS.length] : "#8a93a3";
  });
  return b;
}

document.getElementById("review-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("review-status");
  const list = document.getElementById("review-results");
  list.replaceChildren();
  status.textContent = "Loading…"; status.className = "";
  try {
    const n = document.getElementById("review-n").value || 10;
    const body = await apiCall(`/api/v1/review?n=${encodeURIComponent(n)}`);
    status.textContent = body.statements.length ? `${body.statements.length} statement(s) to review.` : "Nothing to review.";
    body.statements.forEach((st, i) => {
      const labels = window.themeLabels || {};
      const chips = el("div", { class: "chips", role: "group", "aria-label": `Themes for statement ${st.id}` });
      const tagged = new Set(st.themes.map(t => t.id));
      for (const id of new Set([...tagged, ...st.uncertain])) chips.append(toggleChip(id, labels[id] || id, tagged.has(id), st.uncertain.includes(id)));
      const addId = `review-add-${i}`;
      const select = el("select", { id: addId }, el("option", { value: "" }, "Choose a theme"));
      for (const id of themeOrder) select.append(el("option", { value: id }, labels[id] || id));
      const addButton = el("button", { type: "button" }, "Add theme");
      addButton.addEventListener("click", () => {
        if (select.value && !chips.querySelector(`[data-theme="${select.value}"]`)) chips.append(toggleChip(select.value, labels[select.value] || select.value, true, false));
      });
      const save = el("button", { type: "button", class: "save" }, "Save labels");
      const note = el("span", { class: "meta", role: "status" });
      save.addEventListener("click", async () => {
        const themes = [...chips.querySelectorAll("[aria-pressed=true]")].map(b => b.dataset.theme);
        const token = document.getElementById("review-token").value;
        const headers = { "Content-Type": "application/json" };
        if (token) headers.Authorization = `Bearer ${token}`;
        try {
          await apiCall("/api/v1/labels", { method: "POST", headers,
            body: JSON.stringify({ examples: [{ text: st.text, themes, statement_id: st.id }] }) });
          note.textContent = ` Saved: ${themes.length ? themes.join(", ") : "no theme"}.`; note.className = "meta saved";
        } catch (err) { note.textContent = ` ${err.message}`; note.className = "error"; }
      });
      const meta = el("p", { class: "meta" }, `${st.organisation || "Unknown organisation"} · ${st.date || "undated"}`);
      list.append(el("li", { "data-statement": st.id }, meta, el("p", {}, st.text), chips,
        el("div", { class: "add" }, el("label", { for: addId }, "Add a missing theme"), select, addButton), save, note));
    });
  } catch (err) { status.textContent = err.message; status.className = "error"; }
});

loadThemes().catch(() => {});

// The review queue's token field shares the token kept for this tab with the other pages.
const reviewToken = document.getElementById("review-token");
bindToken(reviewToken);
reviewToken.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, reviewToken.value));
