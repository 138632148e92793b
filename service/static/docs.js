// Starts Swagger UI (served from the flask-swagger-ui package, never a CDN) on the docs page. It lives in this
// file rather than in the page so that the page's Content-Security-Policy can forbid inline scripts.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  // No spec validator badge: it would call an outside service.
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
});
