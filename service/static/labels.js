// Edit a label's themes (PUT) or delete it (DELETE), with the token; the page reloads to show what is stored.
const tokenInput = document.getElementById("labels-token");
bindToken(tokenInput);
tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));

for (const form of document.querySelectorAll("form.label-edit")) {
  const note = form.querySelector(".note");
  const id = form.dataset.label;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const themes = [...form.querySelectorAll("input[name=themes]:checked")].map(i => i.value);
    const name = form.elements.name.value.trim() || null;
    note.textContent = "Saving…"; note.className = "note";
    try {
      await apiCall(`/api/v1/labels/${id}`, { method: "PUT", headers: authHeaders({ "Content-Type": "application/json" }),
                                              body: JSON.stringify({ themes, name }) });
      location.reload();
    } catch (err) { note.textContent = err.message; note.className = "note error"; }
  });
  form.querySelector("button.delete").addEventListener("click", async () => {
    note.textContent = "Deleting…"; note.className = "note";
    try {
      await apiCall(`/api/v1/labels/${id}`, { method: "DELETE", headers: authHeaders() });
      location.reload();
    } catch (err) { note.textContent = err.message; note.className = "note error"; }
  });
}
