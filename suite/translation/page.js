/* The translation form of suite serve's page: strings typed one per line, or a .po catalog read through
   /inputs, translated through /predict a few strings at a time (a progress bar moves), and for a catalog
   filled through /output as `suite predict --input app.po --output filled.po` fills it (untranslated entries
   only, marked fuzzy), ready to download. Each string says whether placeholders and accelerators were kept. */
"use strict";

(() => {
  const S = window.Suite;
  const {el} = S;
  const text = el("textarea", {id: "strings", name: "strings", placeholder: "Delete %(name)s?\n_Open…"});
  const file = S.fileField("po-file", "…or a .po catalog to fill in", S.data.output_suffixes.join(","));
  const node = el("form", {},
                  el("label", {for: "strings"}, "Interface strings, one per line"), text, file.box,
                  el("button", {type: "submit"}, "Translate"));
  S.form.append(node);

  const kept = (flag) => (flag === null || flag === undefined ? "–" :
    el("span", {class: `badge ${flag ? "no" : "yes"}`}, flag ? "kept" : "lost"));

  function stringsTable(predictions) {
    return S.table(["source", "translation", "placeholders", "accelerator"],
                   predictions.map((p) => [p.source, p.translation, kept(p.placeholders_kept),
                                           kept(p.accelerator_kept)]));
  }

  async function fillCatalog(chosen) {
    const sources = await S.fileInputs(chosen);
    const predictions = await S.predictInChunks(sources, (chunk) => ({texts: chunk}), {what: "strings translated"});
    const bytes = new Uint8Array(await S.readAs(chosen, "bytes"));
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const response = await S.api("output", {json: {name: chosen.name, content: btoa(binary), predictions}, raw: true});
    const filled = await response.blob();
    const link = el("a", {id: "download", href: URL.createObjectURL(filled), download: chosen.name},
                    `Download ${chosen.name}, filled in`);
    S.answer.append(el("div", {class: "answer-block"}, el("p", {id: "summary"}, response.headers.get("X-Suite-Summary")),
                       el("p", {}, link)),
                    el("details", {}, el("summary", {}, `All ${predictions.length} strings`),
                       stringsTable(predictions)));
  }

  S.onSubmit(node, async () => {
    const chosen = file.input.files[0];
    if (chosen) return fillCatalog(chosen);
    const lines = text.value.split("\n").filter((line) => line.trim());
    if (!lines.length) throw new S.Failure("type a string to translate, or choose a .po file");
    S.answer.append(stringsTable(await S.predictInChunks(lines, (chunk) => ({texts: chunk}),
                                                         {what: "strings translated"})));
  });
})();
