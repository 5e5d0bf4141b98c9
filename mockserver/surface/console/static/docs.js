// /docs: Swagger UI over every document the mock serves; "try it" calls this mock (the
// documents' servers are rewritten to this origin). ?doc=<short name or title> picks the document
// shown first (?doc=runagents-v1); without it, today's API (/api/v1) when the mock serves it.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var urls = JSON.parse(root.dataset.urls);
  var wanted = new URLSearchParams(window.location.search).get("doc");
  function find(test) { return urls.filter(test)[0]; }
  var first = (wanted && find(function (u) { return u.short === wanted || u.name === wanted; }))
    || find(function (u) { return u.short === "runagents-v1"; }) || urls[0];
  window.ui = SwaggerUIBundle({
    urls: urls,
    "urls.primaryName": first.name,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    validatorUrl: null,            // no call to validator.swagger.io: the page works offline
    persistAuthorization: false,   // the key lives in this tab only
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
})();
