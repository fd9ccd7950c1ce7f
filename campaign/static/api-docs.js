// The API reference: the vendored Swagger UI (static/vendor/swagger-ui/) draws the OpenAPI
// document named by the box's data-openapi-url. Started from this file, not from an inline
// script, so that the page keeps the CSP (script-src 'self'; style-src 'self'). Only the
// base layout: the standalone preset's top bar carries an inline <style> the CSP refuses.
(function () {
  "use strict";
  var box = document.getElementById("api-reference");
  if (!box || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: box.getAttribute("data-openapi-url"),
    domNode: box,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: false,
    validatorUrl: null, // never ask validator.swagger.io about our document
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    persistAuthorization: false, // a token typed into "Authorize" is forgotten with the page
  });
})();
