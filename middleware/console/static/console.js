// sigv4kit IAM console: optional conveniences; every form works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The policy editor: say whether the text is JSON as it is typed (the server
  // validates with the policy engine on save).
  var editor = document.querySelector("textarea[data-json-editor]");
  var status = document.getElementById("json-status");
  if (editor && status) {
    var check = function () {
      try { JSON.parse(editor.value); status.textContent = "JSON is well-formed."; }
      catch (err) { status.textContent = "Not JSON yet: " + err.message; }
    };
    editor.addEventListener("input", check);
    check();
  }
  // Copy buttons next to secrets shown once.
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      if (navigator.clipboard) { navigator.clipboard.writeText(el.textContent); }
    });
    el.insertAdjacentElement("afterend", button);
  });
});
