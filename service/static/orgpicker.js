// Organisation pickers: suggestions as you type (from /api/v1/organisations?q=) and several organisations at
// once, each kept as a hidden input named like the picker's data-name, so the form sends them all.
(function () {
  function chipFor(picker, name) {
    const li = document.createElement("li");
    const hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = picker.dataset.name || "organisation"; hidden.value = name;
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "remove"; remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${name}`);
    li.append(hidden, document.createTextNode(name + " "), remove);
    return li;
  }

  function chosen(picker) {
    return [...picker.querySelectorAll(".picked input[type=hidden]")].map(i => i.value.toLowerCase());
  }

  function add(picker, input) {
    const name = input.value.trim();
    if (!name) return false;
    if (!chosen(picker).includes(name.toLowerCase())) picker.querySelector(".picked").append(chipFor(picker, name));
    input.value = "";
    return true;
  }

  function setUp(picker) {
    const input = picker.querySelector("input[list]");
    const list = document.getElementById(input.getAttribute("list"));
    let timer = null, asked = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        if (q === asked) return;
        asked = q;
        try {
          const response = await fetch(`/api/v1/organisations?q=${encodeURIComponent(q)}&limit=10`);
          if (!response.ok || q !== input.value.trim()) return;
          const body = await response.json();
          list.replaceChildren(...body.organisations.map(o => {
            const option = document.createElement("option");
            option.value = o.name;
            option.textContent = `${o.statements} statement(s)`;
            return option;
          }));
          picker.dataset.suggested = body.organisations.map(o => o.name).join("\n");
        } catch (err) { /* suggestions are a convenience; typing a name still works */ }
      }, 120);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && input.value.trim()) { event.preventDefault(); add(picker, input); }
    });
    picker.querySelector(".add-org").addEventListener("click", () => { add(picker, input); input.focus(); });
    picker.querySelector(".picked").addEventListener("click", (event) => {
      if (event.target.classList.contains("remove")) { event.target.closest("li").remove(); input.focus(); }
    });
    // A name typed but not added yet is added when the form is sent (this listener runs before the page's own).
    input.form.addEventListener("submit", () => add(picker, input));
  }

  document.querySelectorAll(".org-picker").forEach(setUp);
})();
