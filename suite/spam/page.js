/* The spam form of suite serve's page: paste a mail or drop an .eml; each message's spam probability, the
   decision at the saved threshold, and the false-positive rate that threshold was measured to give. */
"use strict";

(() => {
  const S = window.Suite;
  const {el} = S;
  const text = el("textarea", {id: "mail-text", name: "mail-text", placeholder: "Subject: …\n\nThe mail's text"});
  const file = S.fileField("mail-file", "…or a mail file (.eml, .mbox, .txt: one message per line)",
                           S.data.input_file_suffixes.join(","));
  const node = el("form", {},
                  el("label", {for: "mail-text"}, "A mail (subject and body)"), text, file.box,
                  el("button", {type: "submit"}, "Score"));
  S.form.append(node);

  S.onSubmit(node, async () => {
    const chosen = file.input.files[0];
    let texts;
    if (chosen) texts = await S.fileInputs(chosen);
    else if (text.value.trim()) texts = [text.value];
    else throw new S.Failure("paste a mail, or choose a mail file");
    const predictions = await S.predictInChunks(texts, (chunk) => ({texts: chunk}), {what: "messages"});
    const rows = predictions.map((p, i) => [
      String(i + 1), texts[i].replace(/\s+/g, " ").slice(0, 90), S.fixed(p.spam_probability),
      el("span", {class: `badge ${p.label === "spam" ? "yes" : "no"}`}, p.label), S.fixed(p.threshold)]);
    S.answer.append(S.table(["#", "message", "spam probability", "decision", "threshold"], rows));
    const point = S.operatingPoint();
    if (point && typeof point.fpr === "number") {
      S.answer.append(el("p", {class: "note", id: "fpr-line"},
        `At threshold ${S.fixed(point.threshold)} the false-positive rate was ${S.percent(point.fpr)} ` +
        `(95% CI ${S.percent(point.fpr_low)}–${S.percent(point.fpr_high)}; ${point.false_positives} of ` +
        `${point.negatives} legitimate mails flagged, ${point.where}).`));
    }
  });
})();
