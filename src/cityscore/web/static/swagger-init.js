/* CityScore-KZ: starts Swagger UI on /docs. A file of its own, not an inline script, so that the
 * Content-Security-Policy can allow scripts from this server only (decisions.md D-77). */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis]
  });
})();
