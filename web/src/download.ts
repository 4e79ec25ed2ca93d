// Save text the page made (results, traces, counterexamples) as a file through a temporary link.

export function download(name: string, text: string | string[], type = "application/json"): void {
  const url = URL.createObjectURL(new Blob(typeof text === "string" ? [text] : text, { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
