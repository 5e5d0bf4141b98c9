// /docs: Swagger UI over every document the mock serves; "try it" calls this mock (the
// documents' servers are rewritten to this origin). ?doc=<title> picks the document shown first.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var urls = JSON.parse(root.dataset.urls);
  var wanted = new URLSearchParams(window.location.search).get("doc");
  window.ui = SwaggerUIBundle({
    urls: urls,
    "urls.primaryName": wanted || urls[0].name,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    validatorUrl: null,            // no call to validator.swagger.io: the page works offline
    persistAuthorization: false,   // the key lives in this tab only
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
})();
