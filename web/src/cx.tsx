// Counterexamples: load a counterexample file (from `faultline check`) and step through its schedule,
// forwards and backwards, with the step table and the timeline in sync.
import { useState } from "preact/hooks";

interface CxFile {
  faultline: "counterexample";
  target: string;
  describe: Record<string, unknown>;
  finding: { kind: string; message: string; cpus: number[] };
  choices: number[];
  labels: string[];
}

export function CounterexamplePanel() {
  const [cx, setCx] = useState<CxFile | null>(null);
  const [error, setError] = useState("");
  const [step, setStep] = useState(0);
  async function load(f: File) {
    try {
      const d = JSON.parse(await f.text()) as CxFile;
      if (d.faultline !== "counterexample" || !Array.isArray(d.choices))
        throw new Error("not a faultline counterexample file");
      setCx(d);
      setStep(0);
      setError("");
    } catch (e) {
      setError(`${f.name}: ${(e as Error).message}`);
    }
  }
  return (
    <section class="controls">
      <label>
        Counterexample file (from <code>faultline check</code>){" "}
        <input
          type="file"
          accept=".json"
          data-testid="cx-file"
          onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) void load(f);
          }}
        />
      </label>
      {error && <pre class="problems">{error}</pre>}
      {cx && (
        <div>
          <p>
            <b>{cx.finding.kind}</b>: {cx.finding.message} ({cx.choices.length} steps)
          </p>
          <div class="actions">
            <button type="button" onClick={() => setStep((s) => Math.max(0, s - 1))}>
              Back
            </button>
            <button type="button" onClick={() => setStep((s) => Math.min(cx.choices.length - 1, s + 1))}>
              Forward
            </button>
            <span>
              step {step + 1} of {cx.choices.length}
            </span>
          </div>
          <table class="steps">
            <tbody>
              {cx.choices.map((cpu, i) => (
                <tr key={i} class={i === step ? "on" : ""} onClick={() => setStep(i)}>
                  <td>{i + 1}</td>
                  <td>CPU {cpu}</td>
                  <td>{cx.labels[i] ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
