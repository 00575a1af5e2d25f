// Live character counters. The page works without this script: the server checks lengths again.
document.querySelectorAll("textarea[data-limit]").forEach(function (area) {
  var counter = document.querySelector('[data-count-for="' + area.id + '"]');
  var limit = parseInt(area.getAttribute("data-limit"), 10);
  function update() {
    var used = Array.from(area.value).length;
    counter.textContent = String(used);
    counter.parentElement.classList.toggle("over", used > limit);
  }
  area.addEventListener("input", update);
  update();
});
