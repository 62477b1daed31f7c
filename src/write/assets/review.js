// The review page's script: one file next to the pages (review-tools.css beside it),
// loaded by each page. It builds the reviewer's tools (which need it) and wires the
// highlight, the filter, keyboard navigation, editing and the corrections download.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var data = JSON.parse(document.getElementById("tarjama-data").textContent);
  var body = document.querySelector("table.aligned tbody");
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr[id]"));
  var flagged = rows.filter(function (tr) { return tr.classList.contains("flagged"); });
  document.querySelector("header.top").insertAdjacentHTML("beforeend",
    '<div class="controls" id="controls">' +
    '<label><input type="checkbox" id="only-flagged"> Show only flagged rows</label> ' +
    '<button type="button" id="prev-flagged">\u2191 Previous flagged</button> ' +
    '<button type="button" id="next-flagged">\u2193 Next flagged</button> ' +
    '<span id="nav-status" aria-live="polite"></span> ' +
    '<button type="button" id="download" disabled>Download corrections (0)</button></div>' +
    '<p class="keys">Keys: <kbd>n</kbd>/<kbd>j</kbd> next flagged row \u00b7 ' +
    '<kbd>p</kbd>/<kbd>k</kbd> previous \u00b7 <kbd>e</kbd> edit the row \u00b7 ' +
    '<kbd>Ctrl</kbd>+<kbd>Enter</kbd> save \u00b7 <kbd>Esc</kbd> cancel \u00b7 ' +
    'hover or <kbd>Tab</kbd> to a sentence to see its counterpart. ' +
    '<span title="a quality check failed, or the translation is missing">Flagged: ' +
    'a quality check failed or no translation.</span></p>');

  // Per editable row, what a correction names: the source and the machine
  // translation as the cells show them (the data block holds only the texts the
  // cells cannot give back exactly), and its language.
  var info = {};
  rows.forEach(function (tr) {
    var i = String(Number(tr.id.slice(1)) - 1);
    tr.setAttribute("data-i", i);
    tr.tabIndex = -1;
    var translated = tr.classList.contains("translated");
    // A cell written as bare text pairs as a whole: one span keyed by the row.
    [tr.querySelector("td.src"), translated ? tr.querySelector("td.tgt") : null].forEach(function (td) {
      if (!td || td.querySelector("[data-s]")) { return; }
      var whole = document.createElement("span");
      whole.setAttribute("data-s", i);
      whole.append.apply(whole, Array.prototype.slice.call(td.childNodes));
      td.append(whole);
    });
    tr.querySelectorAll("[data-s]").forEach(function (s) { s.classList.add("s"); s.tabIndex = 0; });
    if (!translated && !tr.classList.contains("untranslated")) { return; }
    // The translation cell's content, in the box an edit replaces.
    var cell = tr.querySelector("td.tgt");
    var t = document.createElement("div");
    t.className = "t";
    t.append.apply(t, Array.prototype.slice.call(cell.childNodes));
    cell.append(t);
    var src = tr.querySelector("td.src");
    var exact = data.rows[i] || {};
    info[i] = {
      src_lang: src.lang,
      source: "source" in exact ? exact.source : src.textContent,
      machine: "machine" in exact ? exact.machine : translated ? t.textContent : null
    };
    var tools = document.createElement("div");
    tools.className = "tools";
    tools.lang = "en";
    tools.dir = "ltr";
    tools.innerHTML = '<span class="badge badge-edited" hidden>edited</span>' +
      '<button type="button" class="edit">Edit</button>';
    tools.lastChild.setAttribute("aria-label", "Edit the translation of paragraph " + (Number(i) + 1));
    tr.querySelector("td.num").append(tools);
  });

  function span(el) { return el && el.closest ? el.closest(".s") : null; }
  function mark(s, on) {
    var tr = s.closest("tr");
    var sel = '.s[data-s="' + CSS.escape(s.getAttribute("data-s")) + '"]';
    tr.querySelectorAll(sel).forEach(function (x) { x.classList.toggle("hl", on); });
  }
  body.addEventListener("mouseover", function (e) { var s = span(e.target); if (s) { mark(s, true); } });
  body.addEventListener("mouseout", function (e) { var s = span(e.target); if (s) { mark(s, false); } });
  body.addEventListener("focusin", function (e) { var s = span(e.target); if (s) { mark(s, true); } });
  body.addEventListener("focusout", function (e) { var s = span(e.target); if (s) { mark(s, false); } });

  var only = document.getElementById("only-flagged");
  only.addEventListener("change", function () {
    document.body.classList.toggle("only-flagged", only.checked);
  });

  var status = document.getElementById("nav-status");
  var current = -1;
  function rowOf(el) { return el && el.closest ? el.closest("tbody tr[data-i]") : null; }
  function go(step) {
    if (!flagged.length) { status.textContent = "no flagged rows"; return; }
    var at = rowOf(document.activeElement);
    var pos = at ? rows.indexOf(at) : current;
    var list = step > 0 ? flagged : flagged.slice().reverse();
    var next = list.find(function (tr) {
      var i = rows.indexOf(tr);
      return step > 0 ? i > pos : i < pos;
    }) || list[0];
    current = rows.indexOf(next);
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: "center" });
    status.textContent = "flagged row " + (flagged.indexOf(next) + 1) + " of " + flagged.length;
  }
  document.getElementById("next-flagged").addEventListener("click", function () { go(1); });
  document.getElementById("prev-flagged").addEventListener("click", function () { go(-1); });

  var storeKey = "tarjama:corrections:" + data.doc + ":" + data.tgt_lang;
  var edits = {};
  var originals = {};
  var download = document.getElementById("download");
  function store() {
    try {
      var keep = {};
      Object.keys(edits).forEach(function (i) { keep[i] = { source: info[i].source, target: edits[i] }; });
      if (Object.keys(keep).length) { localStorage.setItem(storeKey, JSON.stringify(keep)); }
      else { localStorage.removeItem(storeKey); }
    } catch (err) {
      // storage unavailable: edits live until the page closes
    }
  }
  function show(tr) {
    var i = tr.getAttribute("data-i");
    var t = tr.querySelector(".t");
    if (!(i in originals)) { originals[i] = t.cloneNode(true); }
    var edited = i in edits;
    var fresh = edited ? document.createElement("div") : originals[i].cloneNode(true);
    if (edited) { fresh.className = "t"; fresh.textContent = edits[i]; }
    t.replaceWith(fresh);
    tr.classList.toggle("edited", edited);
    var badge = tr.querySelector(".badge-edited");
    if (badge) { badge.hidden = !edited; }
    var n = Object.keys(edits).length;
    download.disabled = n === 0;
    download.textContent = "Download corrections (" + n + ")";
  }
  function finish(tr, value) {
    var i = tr.getAttribute("data-i");
    var editor = tr.querySelector(".editor");
    if (editor) { editor.remove(); }
    tr.querySelector(".t").hidden = false;
    tr.querySelector(".num .tools").hidden = false;
    if (value !== null) {
      value = value.trim();
      if (value === "" || value === info[i].machine) { delete edits[i]; } else { edits[i] = value; }
      store();
      show(tr);
    }
    tr.querySelector("button.edit").focus();
  }
  function button(label, cls, act) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    b.addEventListener("click", act);
    return b;
  }
  function edit(tr) {
    var i = tr.getAttribute("data-i");
    if (!info[i] || tr.querySelector(".editor")) { return; }
    var area = document.createElement("textarea");
    area.value = i in edits ? edits[i] : (info[i].machine || "");
    area.setAttribute("aria-label", "Translation of paragraph " + (Number(i) + 1));
    area.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); finish(tr, area.value); }
      else if (e.key === "Escape") { e.preventDefault(); finish(tr, null); }
    });
    var bar = document.createElement("div");
    bar.className = "tools";
    bar.append(button("Cancel", "cancel", function () { finish(tr, null); }),
      button("Save", "save", function () { finish(tr, area.value); }));
    var box = document.createElement("div");
    box.className = "editor";
    box.append(area, bar);
    tr.querySelector(".t").hidden = true;
    tr.querySelector(".num .tools").hidden = true;
    tr.querySelector("td.tgt").append(box);
    area.focus();
  }
  body.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button.edit") : null;
    if (b) { edit(b.closest("tr")); }
  });
  download.addEventListener("click", function () {
    var list = Object.keys(edits).map(Number).sort(function (a, b) { return a - b; }).map(function (i) {
      var r = info[i];
      return { doc: data.doc, index: i, src_lang: r.src_lang, tgt_lang: data.tgt_lang,
        source: r.source, machine: r.machine, target: edits[i] };
    });
    var text = JSON.stringify({ tarjama: "corrections", version: 1, corrections: list }, null, 2) + "\n";
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = data.file;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) { return; }
    var t = e.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable ||
      t.tagName === "INPUT" && t.type !== "checkbox")) { return; }
    if (e.key === "n" || e.key === "j") { e.preventDefault(); go(1); }
    else if (e.key === "p" || e.key === "k") { e.preventDefault(); go(-1); }
    else if (e.key === "e") {
      var tr = rowOf(document.activeElement) || rows[current];
      if (tr && info[tr.getAttribute("data-i")]) { e.preventDefault(); edit(tr); }
    }
  });

  try {
    var saved = JSON.parse(localStorage.getItem(storeKey) || "{}");
    Object.keys(saved).forEach(function (i) {
      if (info[i] && saved[i] && saved[i].source === info[i].source) { edits[i] = String(saved[i].target); }
    });
  } catch (err) {
    // nothing saved
  }
  rows.forEach(function (tr) { if (info[tr.getAttribute("data-i")]) { show(tr); } });
})();
