// Live character counters. The page works without this script: the server checks lengths again.
//
// Each textarea carries its network's rule (data-rule, from chorus.domain.lengths.LengthRule) and
// /assets/lengths.js the twitter-text patterns and weights: this is the same algorithm as
// chorus.domain.lengths, on the same patterns, so the page and the server count alike.
(function () {
  "use strict";

  var data = window.CHORUS_LENGTHS;
  // What the server does to a text before counting it (consent.normalise_text): NFC, LF newlines,
  // and Python's str.strip() (whose white space includes U+001C-U+001F).
  var EDGE_SPACE = /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

  function normalise(text) {
    return text.replace(/\r\n?/g, "\n").normalize("NFC").replace(EDGE_SPACE, "");
  }

  function codePointCount(text) {
    return Array.from(text).length;
  }

  // Extended grapheme clusters (UAX #29), as the server counts them with regex's \X (Bluesky).
  // A browser without Intl.Segmenter counts code points: never fewer, so never a false "fits".
  function graphemeCount(text) {
    if (typeof Intl === "undefined" || !Intl.Segmenter) return codePointCount(text);
    var count = 0;
    for (var _ of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) count++;
    return count;
  }

  function plainCount(rule, text) {
    if (rule.counting === "utf16") return text.length;
    return rule.counting === "graphemes" ? graphemeCount(text) : codePointCount(text);
  }

  // RFC 3492 encoding of one label, as punycode.js and Python's "punycode" codec do.
  function punycode(label) {
    var points = Array.from(label).map(function (c) { return c.codePointAt(0); });
    var output = points.filter(function (p) { return p < 0x80; }).map(function (p) { return String.fromCharCode(p); });
    var basic = output.length;
    var handled = basic;
    if (basic) output.push("-");
    var n = 128, delta = 0, bias = 72;
    function digit(d) { return String.fromCharCode(d + 22 + 75 * (d < 26)); }
    function adapt(delta, count, first) {
      var k = 0;
      delta = first ? Math.floor(delta / 700) : delta >> 1;
      delta += Math.floor(delta / count);
      for (; delta > 455; k += 36) delta = Math.floor(delta / 35);
      return Math.floor(k + (36 * delta) / (delta + 38));
    }
    while (handled < points.length) {
      var m = Math.min.apply(null, points.filter(function (p) { return p >= n; }));
      delta += (m - n) * (handled + 1);
      n = m;
      points.forEach(function (p) {
        if (p < n) delta++;
        if (p === n) {
          var q = delta;
          for (var k = 36; ; k += 36) {
            var t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
            if (q < t) break;
            output.push(digit(t + ((q - t) % (36 - t))));
            q = Math.floor((q - t) / (36 - t));
          }
          output.push(digit(q));
          bias = adapt(delta, handled + 1, handled === basic);
          delta = 0;
          handled++;
        }
      });
      delta++;
      n++;
    }
    return output.join("");
  }

  function encodedLabelLength(label) {
    var ascii = Array.from(label).every(function (c) { return c.codePointAt(0) <= 0x7e; });
    return ascii ? codePointCount(label) : 4 + punycode(label).length;
  }

  function validDomain(domain) {
    if (domain.slice(0, 4) === "xn--" && !new RegExp(data.patterns.ascii_domain, "iu").test(domain)) return false;
    return domain.split(".").every(function (label) {
      var length = encodedLabelLength(label);
      return length >= 1 && length <= data.max_label;
    });
  }

  // twitter-text extractUrlsWithIndices: [start, end] in UTF-16 units of `text`.
  function urlSpans(text, withoutProtocol) {
    if (!text || (withoutProtocol ? text.indexOf(".") < 0 : text.indexOf(":") < 0)) return [];
    var finder = new RegExp(data.patterns.url, "giu");
    var spans = [];
    var match;
    while ((match = finder.exec(text)) !== null) {
      var before = match[1], url = match[2], protocol = match[3], domain = match[4], path = match[6];
      var end = finder.lastIndex;
      var start = end - url.length;
      if (!validDomain(domain) || (protocol || "https://").length + codePointCount(url) > data.max_url_length) continue;
      if (!protocol) {
        if (!withoutProtocol || /[-_./]$/.test(before)) continue;
        var found = [];
        var ascii = new RegExp(data.patterns.ascii_domain, "giu");
        var part;
        while ((part = ascii.exec(domain)) !== null) found.push([start + part.index, start + part.index + part[0].length]);
        if (!found.length) continue;
        if (path) found[found.length - 1][1] = end;
        spans = spans.concat(found);
        continue;
      }
      var tco = new RegExp(data.patterns.tco, "iu").exec(url);
      if (tco) {
        if (codePointCount(tco[1]) > data.max_tco_slug) continue;
        end = start + tco[0].length;
      }
      spans.push([start, end]);
    }
    return spans;
  }

  function light(point) {
    return data.light_ranges.some(function (range) { return range[0] <= point && point <= range[1]; });
  }

  // twitter-text v3 parseTweet(text).weightedLength
  function weightedLength(text) {
    var urls = {};
    urlSpans(text, true).forEach(function (span) { urls[span[0]] = span[1]; });
    var emoji = {};
    var finder = new RegExp(data.patterns.emoji, "gu");
    var match;
    while ((match = finder.exec(text)) !== null) emoji[match.index] = match.index + match[0].length;
    var weight = 0;
    var index = 0;
    while (index < text.length) {
      if (urls[index] !== undefined) {
        weight += data.url_length * data.scale;
        index = urls[index];
      } else if (emoji[index] !== undefined) {
        weight += data.default_weight;
        index = emoji[index];
      } else {
        var point = text.codePointAt(index);
        weight += light(point) ? data.scale : data.default_weight;
        index += point > 0xffff ? 2 : 1;
      }
    }
    return Math.floor(weight / data.scale);
  }

  function ruleLength(rule, raw) {
    var text = normalise(raw);
    if (rule.counting === "weighted") return weightedLength(text);
    var spans = rule.urls === "any" ? urlSpans(text, true) : rule.urls === "with_protocol" ? urlSpans(text, false) : [];
    var kept = "";
    var position = 0;
    spans.forEach(function (span) {
      kept += text.slice(position, span[0]);
      position = span[1];
    });
    kept += text.slice(position);
    var count = rule.url_cost * spans.length + plainCount(rule, kept);
    Array.from(kept).forEach(function (c) { if (rule.escaped.indexOf(c) >= 0) count++; });
    return count;
  }

  document.querySelectorAll("textarea[data-rule]").forEach(function (area) {
    var counter = document.querySelector('[data-count-for="' + area.id + '"]');
    var rule = JSON.parse(area.getAttribute("data-rule"));
    if (!data || !counter) return;
    function update() {
      var used = ruleLength(rule, area.value);
      counter.textContent = String(used);
      counter.parentElement.classList.toggle("over", used > rule.room);
    }
    area.addEventListener("input", update);
    update();
  });
})();

// Live previews and the disclosure. Without this script the page shows the server's preview of
// the text as rendered, and the server refuses a text without a required disclosure.
(function () {
  "use strict";

  // What the server does to a text before it is approved (consent.normalise_text).
  var EDGE_SPACE = /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

  function normalise(text) {
    return text.replace(/\r\n?/g, "\n").normalize("NFC").replace(EDGE_SPACE, "");
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // As chorus.domain.disclosure: the disclosure as a whole word.
  function holds(text, disclosure) {
    return new RegExp("(?<![\\p{L}\\p{N}_])" + escapeRegExp(disclosure) + "(?![\\p{L}\\p{N}_])", "u").test(text);
  }

  document.querySelectorAll("textarea[data-rule]").forEach(function (area) {
    var preview = document.querySelector('[data-preview-of="' + area.id + '"] [data-preview-text]');
    var disclosure = area.getAttribute("data-disclosure");
    var required = area.hasAttribute("data-disclosure-required");
    var row = area.closest(".network");
    var box = row && row.querySelector('input[name="network"]');
    function update() {
      // textContent, never HTML: whatever is typed is shown as text.
      if (preview) preview.textContent = normalise(area.value);
      if (disclosure && required) {
        // Only a chosen network's text is sent for approval (and a hidden field cannot be fixed).
        var missing = (!box || box.checked) && !holds(area.value, disclosure);
        area.setCustomValidity(missing ? area.getAttribute("data-disclosure-message") : "");
      }
    }
    area.addEventListener("input", update);
    if (box) box.addEventListener("change", update);
    update();
  });

  // Browsers without :has() show every editor; this hides those of networks not chosen.
  if (!CSS.supports("selector(:has(*))")) {
    document.querySelectorAll(".network").forEach(function (row) {
      var box = row.querySelector('input[name="network"]');
      if (!box) return;
      function toggle() { row.classList.toggle("unchosen", !box.checked); }
      box.addEventListener("change", toggle);
      toggle();
    });
  }
})();

// The content funnel's "opened the approval page": a POST beacon once the page has loaded in a
// browser, never counted on the GET (which changes nothing, and which mail scanners prefetch).
(function () {
  "use strict";
  var page = document.querySelector("[data-opened]");
  if (page && navigator.sendBeacon) navigator.sendBeacon(page.getAttribute("data-opened"));
})();
