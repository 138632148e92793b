// The API token is kept for this browser tab only (sessionStorage), shared by every page's token field.
const TOKEN_KEY = "joinedup-token";

function bindToken(input) {
  if (!input) return;
  input.value = sessionStorage.getItem(TOKEN_KEY) || "";
  input.addEventListener("change", () => sessionStorage.setItem(TOKEN_KEY, input.value));
}

function authHeaders(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function apiCall(url, options = {}) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) throw new Error(body && body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}
