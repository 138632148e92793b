// Tag a pasted (or .txt/.md) document without storing it, or add it to the corpus and open its stored view.
const CHIP_CLASSES = 13;
let themeIds = [];
const themeLabel = {};

function themeChip(t) {
  const i = Math.max(0, themeIds.indexOf(t.id)) % CHIP_CLASSES;
  return el("span", { class: `chip c${i}`, title: t.id }, `${t.label || themeLabel[t.id] || t.id} `,  // the space: read as "label 0.84", not "label0.84"
              el("span", { class: "score" }, Number(t.score).toFixed(2)));
}

const form = document.getElementById("doc-form");
const status = document.getElementById("doc-status");
const preview = document.getElementById("doc-preview");
bindToken(document.getElementById("doc-token"));
document.getElementById("doc-token").addEventListener("input", (e) => sessionStorage.setItem(TOKEN_KEY, e.target.value));

function fields() {
  const out = {};
  for (const name of ["organisation", "date", "title", "url"]) {
    const v = form.elements[name].value.trim();
    if (v) out[name] = v;
  }
  return out;
}

function say(message, error = false) { status.textContent = message; status.className = error ? "error" : ""; }

async function textToTag() {
  const file = document.getElementById("doc-file").files[0];
  if (!file) return document.getElementById("doc-text").value;
  if (/\.(txt|md)$/i.test(file.name)) return await file.text();
  throw new Error("A PDF, Word or HTML file is read on the server: add it to the corpus to see it tagged.");
}

document.getElementById("doc-tag").addEventListener("click", async () => {
  preview.replaceChildren();
  try {
    const text = await textToTag();
    if (!text.trim()) throw new Error("Paste a document or choose a file first.");
    say("Tagging…");
    const body = { text };
    if (fields().title) body.title = fields().title;
    const result = await apiCall("/api/v1/tag", { method: "POST", headers: { "Content-Type": "application/json" },
                                                  body: JSON.stringify(body) });
    say(`${result.paragraphs.length} paragraph(s) tagged by model ${result.model.version}; nothing was stored.`);
    for (const p of result.paragraphs) {
      const chips = el("div", { class: "chips" });
      for (const t of p.themes) chips.append(themeChip(t));
      const kind = p.kind === "boilerplate" ? "boilerplate · not tagged"
        : p.kind === "comment" ? "reader's comment · not searchable" : (p.kind || "body").replace("_", " ");
      preview.append(el("li", { class: `kind-${p.kind || "body"}` }, el("p", { class: "kind" }, kind),
        el("p", { class: "text" }, p.text),
        p.themes.length ? chips : el("p", { class: "none" }, p.kind === "boilerplate" ? "" : "No theme")));
    }
    status.scrollIntoView({ block: "start" });  // the result sits below a tall form: bring it into view
  } catch (err) { say(err.message, true); }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  preview.replaceChildren();
  const file = document.getElementById("doc-file").files[0];
  let options;
  if (file) {
    const data = new FormData();
    data.append("file", file);
    for (const [k, v] of Object.entries(fields())) data.append(k, v);
    options = { method: "POST", headers: authHeaders(), body: data };
  } else {
    const text = document.getElementById("doc-text").value;
    if (!text.trim()) { say("Paste a document or choose a file first.", true); return; }
    options = { method: "POST", headers: authHeaders({ "Content-Type": "application/json" }),
                body: JSON.stringify({ text, ...fields() }) };
  }
  say("Adding…");
  try {
    const body = await apiCall("/api/v1/documents", options);
    say("Stored. Opening it…");
    location.assign(`/documents/${encodeURIComponent(body.document.id)}`);
  } catch (err) { say(err.message, true); }
});

apiCall("/api/v1/themes").then((body) => {
  themeIds = body.themes.map(t => t.id);
  for (const t of body.themes) themeLabel[t.id] = t.label;
}).catch(() => {});
