// The console's upload forms: a file dropped on the form goes into its file input, and the key
// field names the file (S3 would put the browser's file name in place of ${filename}; this names
// it as the admin API does, letters, digits, dot, dash and underscore only). Without this script
// the forms still work: choose a file, send the form.
(function () {
  "use strict";
  function safeName(name) {
    var base = name.replace(/\\/g, "/").split("/").pop();
    var cleaned = base.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "");
    return cleaned || "upload";
  }
  document.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var key = form.querySelector("input[name=key]");
    var chosen = form.querySelector(".chosen");
    var zone = form.querySelector(".drop");
    function picked() {
      var file = input.files && input.files[0];
      if (!file) { return; }
      key.value = form.getAttribute("data-key-prefix") + safeName(file.name);
      chosen.textContent = "Chosen: " + file.name;
    }
    input.addEventListener("change", picked);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        picked();
      }
    });
  });
})();
