// Train (a background job, polled until it ends), activate a version, or roll back to the one it replaced.
const tokenInput = document.getElementById("models-token");
const status = document.getElementById("models-status");
bindToken(tokenInput);
tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));

function say(message, error = false) { status.textContent = message; status.className = error ? "error" : ""; }

async function activate(version) {
  say(`Activating ${version}…`);
  try {
    await apiCall(`/api/v1/models/${encodeURIComponent(version)}/activate`, { method: "POST", headers: authHeaders() });
    location.reload();
  } catch (err) { say(err.message, true); }
}

for (const b of document.querySelectorAll("button.activate")) b.addEventListener("click", () => activate(b.dataset.version));
const rollback = document.getElementById("rollback");
if (rollback) rollback.addEventListener("click", () => activate(rollback.dataset.version));

document.getElementById("train").addEventListener("click", async () => {
  say("Starting a training job…");
  try {
    const started = await apiCall("/api/v1/models/train", { method: "POST",
      headers: authHeaders({ "Content-Type": "application/json" }), body: "{}" });
    const id = started.job.id;
    for (;;) {
      const { job } = await apiCall(`/api/v1/jobs/${id}`);
      if (["succeeded", "failed", "rejected"].includes(job.status)) {
        say(`Training job ${id} ${job.status}${job.model ? `: ${job.model}` : ""}. Reloading…`, job.status === "failed");
        setTimeout(() => location.reload(), 1500);
        return;
      }
      say(`Training job ${id}: ${job.status}${job.progress ? ` (${job.progress})` : ""}…`);
      await new Promise(r => setTimeout(r, 2000));
    }
  } catch (err) { say(err.message, true); }
});
