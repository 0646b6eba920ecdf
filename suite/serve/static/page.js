/* suite serve's page: what every domain's form shares (window.Suite). The form itself is static/form.js,
   which the domain ships beside its serving module. Nothing here loads from another server. */
"use strict";

window.Suite = (() => {
  const data = JSON.parse(document.getElementById("run-data").textContent);
  const $ = (id) => document.getElementById(id);

  /** A failed request: its message is the API's one line ({"detail": ...}). */
  class Failure extends Error {}

  /** An element: el("td", {class: "x"}, "text", child...). Text is set as text, never parsed as HTML. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === false || value === null || value === undefined) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** Call the API; resolve with its JSON (or the raw Response when raw), reject with a Failure of one line. */
  async function api(path, {json, body, query, raw = false} = {}) {
    const url = path + (query ? "?" + new URLSearchParams(query) : "");
    const init = {method: json !== undefined || body !== undefined ? "POST" : "GET", headers: {}};
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers["content-type"] = "application/json";
    } else if (body !== undefined) {
      init.body = body;
      init.headers["content-type"] = "application/octet-stream";
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw new Failure(`the server did not answer (${error.message})`);
    }
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`;
      try {
        const answer = await response.json();
        if (typeof answer.detail === "string") detail = answer.detail;
      } catch (ignored) { /* not JSON: the status line is the message */ }
      throw new Failure(detail);
    }
    return raw ? response : response.json();
  }

  function showError(message) {
    const line = $("error");
    line.textContent = message;
    line.hidden = !message;
  }

  function progress(done, total, what) {
    const line = $("progress-line");
    line.hidden = total === null;
    if (total === null) return;
    $("progress").max = total;
    $("progress").value = done;
    $("progress-text").textContent = `${done} of ${total} ${what}`;
  }

  /** Run one submit of a form: one at a time (a second submit while the first runs is refused with a line),
      the button disabled meanwhile, the answer area cleared first, a failure shown as its one line. */
  function onSubmit(form, handler) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (form.dataset.busy) {
        showError("the previous request is still running; its answer comes first");
        return;
      }
      form.dataset.busy = "1";
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
      showError("");
      $("answer").replaceChildren();
      const started = performance.now();
      try {
        await handler();
        $("answer").dataset.ms = String(Math.round(performance.now() - started));
      } catch (error) {
        $("answer").replaceChildren();
        showError(error instanceof Failure ? error.message : `the page failed: ${error.message}`);
      } finally {
        progress(0, null);
        delete form.dataset.busy;
        form.removeAttribute("aria-busy");
        form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = false; });
        $("answer").dataset.done = String(Number($("answer").dataset.done || 0) + 1);
      }
    });
  }

  /** A file picker that also takes a file dropped on its box. */
  function fileField(id, label, accept, {multiple = false} = {}) {
    const input = el("input", {type: "file", id, name: id, accept, multiple});
    const box = el("div", {class: "drop"}, el("label", {for: id}, label), input,
                   el("p", {class: "note"}, "Choose a file, or drop one here."));
    box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("over"); });
    box.addEventListener("dragleave", () => box.classList.remove("over"));
    box.addEventListener("drop", (event) => {
      event.preventDefault();
      box.classList.remove("over");
      input.files = event.dataTransfer.files;
    });
    return {box, input};
  }

  function readAs(file, kind) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(new Failure(`${file.name}: cannot be read (${reader.error})`));
      if (kind === "dataURL") reader.readAsDataURL(file);
      else reader.readAsArrayBuffer(file);
    });
  }

  /** Inputs of a file as `suite predict --input FILE` reads them (POST /inputs). */
  async function fileInputs(file) {
    return (await api("inputs", {body: file, query: {name: file.name}})).inputs;
  }

  /** /predict over many inputs, `size` at a time, the progress bar moving; the predictions in order. */
  async function predictInChunks(inputs, toRequest, {size = 16, what = "inputs"} = {}) {
    const predictions = [];
    progress(0, inputs.length, what);
    for (let start = 0; start < inputs.length; start += size) {
      const answer = await api("predict", {json: toRequest(inputs.slice(start, start + size))});
      predictions.push(...answer.predictions);
      progress(predictions.length, inputs.length, what);
    }
    return predictions;
  }

  const fixed = (x, digits = 4) => (typeof x === "number" ? x.toFixed(digits) : "–");
  const percent = (x, digits = 1) => (typeof x === "number" ? (100 * x).toFixed(digits) + "%" : "–");

  /** The operating point measured last (a calibration, else the test split), or null. */
  const operatingPoint = () => data.card.operating_points.slice(-1)[0] || null;

  function table(header, rows, caption) {
    return el("div", {class: "scroll"}, el("table", {},
      caption ? el("caption", {class: "note"}, caption) : null,
      el("thead", {}, el("tr", {}, header.map((h) => el("th", {scope: "col"}, h)))),
      el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell)))))));
  }

  async function watchHealth() {
    for (;;) {
      try {
        const response = await fetch("health");
        if (response.ok) { $("health").textContent = "Model loaded: ready."; return; }
        const answer = await response.json();
        $("health").textContent = answer.detail || "Loading the model…";
        if (String(answer.detail || "").startsWith("the model failed")) return;
      } catch (ignored) { $("health").textContent = "The server does not answer."; }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  watchHealth();

  return {data, el, api, Failure, showError, progress, onSubmit, fileField, readAs, fileInputs,
          predictInChunks, fixed, percent, operatingPoint, table, answer: $("answer"), form: $("form")};
})();
