// A link to /documents/<id>#p<index> marks that paragraph (CSS :target) and brings it to the middle of the view.
function showTarget() {
  for (const old of document.querySelectorAll("[aria-current=true]")) old.removeAttribute("aria-current");
  const target = location.hash && document.getElementById(location.hash.slice(1));
  if (target) {
    target.setAttribute("aria-current", "true");
    target.scrollIntoView({ block: "center" });
  }
}
window.addEventListener("hashchange", showTarget);
showTarget();
