// The models pages: train (a background job, followed until it ends, even across a reload), activate a
// version, roll back. The page is rendered by the server; after a change it reloads and says what happened.
const tokenInput = document.getElementById("models-token");
const status = document.getElementById("models-status");
const progressBar = document.getElementById("train-progress");
const JOB_KEY = "joinedup-train-job";
const MESSAGE_KEY = "joinedup-models-message";

bindToken(tokenInput);
if (tokenInput) tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));

function say(message, error = false) {
  status.textContent = message;
  status.className = error ? "error" : "";
}

function busy(on) {
  for (const b of document.querySelectorAll("main button")) b.disabled = on;
}

// What went wrong, in words: the API's message, what to do about a missing token, or an unreachable server.
function explain(err, doing) {
  if (!("status" in err)) return `${doing} failed: the server could not be reached (${err.message}).`;
  let text = `${doing} failed: ${err.message}`;
  if (err.status === 401) text += ". Enter the API token above and try again.";
  else if (err.code) text += ` (${err.code.replace(/_/g, " ")}, HTTP ${err.status}).`;
  return text;
}

// Reload to show the new state, with a message that survives the reload.
function reloadWith(message, error = false) {
  sessionStorage.setItem(MESSAGE_KEY, JSON.stringify({ message, error }));
  location.reload();
}

async function activate(version, doing) {
  busy(true);
  say(`${doing}…`);
  try {
    const done = await apiCall(`/api/v1/models/${encodeURIComponent(version)}/activate`,
                               { method: "POST", headers: authHeaders() });
    reloadWith(`${version} is now the active model.` +
               (done.retag_job ? ` Stored statements are being re-tagged in the background (job ${done.retag_job}).` : ""));
  } catch (err) {
    say(explain(err, doing), true);
    busy(false);
  }
}

for (const b of document.querySelectorAll("button.activate")) {
  b.addEventListener("click", () => activate(b.dataset.version, `Activating ${b.dataset.version}`));
}
const rollback = document.getElementById("rollback");
if (rollback) rollback.addEventListener("click", () => activate(rollback.dataset.version, `Rolling back to ${rollback.dataset.version}`));

function elapsed(since) {
  const s = Math.round((Date.now() - since) / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

function outcome(job) {
  const report = job.report || {};
  const c = report.comparison;
  const change = c && c.active && c.candidate
    ? ` Frozen-test micro-F1 ${c.active.micro_f1.toFixed(3)} (${c.active_version}) → ${c.candidate.micro_f1.toFixed(3)}.` : "";
  if (job.status === "rejected") {
    return `Training job ${job.id} finished: model ${job.model} was rejected by the evaluation gate (worse than the ` +
           `active model); it is saved and listed, but not active.${change}`;
  }
  const what = report.decision === "activated" ? "is now the active model" : "was saved without being activated";
  return `Training job ${job.id} finished: model ${job.model} ${what}.${change}`;
}

async function follow(id) {
  sessionStorage.setItem(JOB_KEY, String(id));
  busy(true);
  progressBar.hidden = false;
  const since = Date.now();
  try {
    for (;;) {
      const { job } = await apiCall(`/api/v1/jobs/${encodeURIComponent(id)}`);
      if (job.status === "succeeded" || job.status === "rejected") {
        sessionStorage.removeItem(JOB_KEY);
        reloadWith(outcome(job), job.status === "rejected");
        return;
      }
      if (job.status === "failed") {
        sessionStorage.removeItem(JOB_KEY);
        throw Object.assign(new Error(job.progress || "no reason recorded"), { status: 200, code: null });
      }
      say(`Training job ${id} ${job.status} (${elapsed(since)})${job.progress ? `: ${job.progress}` : ""}…`);
      await new Promise(r => setTimeout(r, 1000));
    }
  } catch (err) {
    if (err.status === 404) sessionStorage.removeItem(JOB_KEY);
    say(explain(err, `Training job ${id}`), true);
    progressBar.hidden = true;
    busy(false);
  }
}

const train = document.getElementById("train");
if (train) {
  train.addEventListener("click", async () => {
    busy(true);
    say("Starting a training job…");
    const body = { select: document.getElementById("train-select").checked,
                   force: document.getElementById("train-force").checked };
    try {
      const started = await apiCall("/api/v1/models/train", { method: "POST", body: JSON.stringify(body),
        headers: authHeaders({ "Content-Type": "application/json" }) });
      follow(started.job.id);
    } catch (err) {
      if (err.status === 409 && err.details && err.details.job) {  // one is running already: follow that one
        follow(err.details.job.id);
        return;
      }
      say(explain(err, "Starting a training job"), true);
      busy(false);
    }
  });
}

const left = sessionStorage.getItem(MESSAGE_KEY);
if (left && status) {
  sessionStorage.removeItem(MESSAGE_KEY);
  const { message, error } = JSON.parse(left);
  say(message, error);
}
const running = sessionStorage.getItem(JOB_KEY);
if (running && train) follow(running);
