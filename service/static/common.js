// What every page's script shares: building elements, calling the API, and the API token, kept for this
// browser tab only (sessionStorage) and shared by every page's token field.

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

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
  if (!response.ok) {
    const error = body && body.error ? body.error : {};
    // The API's error body ({"error": {"code", "message", "details"}}) rides on the Error for pages that use it.
    throw Object.assign(new Error(error.message || `HTTP ${response.status}`),
                        { status: response.status, code: error.code || null, details: error.details || null });
  }
  return body;
}
