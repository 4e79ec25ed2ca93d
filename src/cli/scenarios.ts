// Finding scenarios: built-in names (scenarios/*.yaml shipped in the package) or file paths.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { type FsScenarioConfig, type FsScenarioOverrides, fsScenarioFromYaml } from "../scenario/iomap.js";
import { readTextFile, shown, UsageError } from "./io.js";

/** The package's scenarios/ directory (from dist/cli or src/cli alike). */
export const BUILTIN_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "scenarios",
);

export interface ScenarioSource {
  /** Name used in messages: the path as given, or "scenarios/NAME.yaml" for built-ins. */
  file: string;
  text: string;
  builtin: boolean;
}

export function builtinNames(): string[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(BUILTIN_DIR);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Resolves a SCENARIO argument: an existing file path, else a built-in name. */
export function resolveScenario(arg: string): ScenarioSource {
  if (arg === "") throw new UsageError("scenario: an empty name; allowed: a built-in name or a file");
  const exists = fs.existsSync(arg);
  if (exists && fs.statSync(arg).isFile())
    return { file: arg, text: readTextFile(arg, "scenario"), builtin: false };
  const name = arg.replace(/\.ya?ml$/, "");
  if (/^[a-z0-9][a-z0-9._-]*$/.test(name) && builtinNames().includes(name)) {
    const file = path.join(BUILTIN_DIR, `${name}.yaml`);
    return { file: `scenarios/${name}.yaml`, text: readTextFile(file, "scenario"), builtin: true };
  }
  if (exists) readTextFile(arg, "scenario"); // throws: a directory, a device, a FIFO
  const looksLikePath = arg.includes("/") || arg.includes("\\") || /\.(ya?ml|json)$/.test(arg);
  throw new UsageError(
    looksLikePath
      ? `cannot read scenario ${shown(arg, 200)}: no such file`
      : `unknown scenario "${shown(arg)}": not a file and not a built-in; built-ins: ${builtinNames().join(", ")}`,
  );
}

/** One line per built-in: name and title (read leniently; `faultline run` validates fully). */
export function builtinSummaries(): { name: string; title: string }[] {
  return builtinNames().map((name) => {
    try {
      const doc = parseYaml(fs.readFileSync(path.join(BUILTIN_DIR, `${name}.yaml`), "utf8")) as {
        title?: string;
      };
      return { name, title: doc?.title ?? "" };
    } catch {
      return { name, title: "(unreadable)" };
    }
  });
}

/** The files a SCENARIO argument reads (for the check that no output overwrites an input). */
export function scenarioInputs(arg: string): { path: string; what: string }[] {
  if (arg !== "" && fs.existsSync(arg)) return [{ path: arg, what: "scenario" }];
  const name = arg.replace(/\.ya?ml$/, "");
  if (/^[a-z0-9][a-z0-9._-]*$/.test(name) && builtinNames().includes(name))
    return [{ path: path.join(BUILTIN_DIR, `${name}.yaml`), what: "built-in scenario" }];
  return [];
}

/** A built-in writeback scenario (scenarios/NAME.yaml, the only source) as a runner config, with overrides. */
export function builtinFsScenario(name: string, over: FsScenarioOverrides = {}): FsScenarioConfig {
  const src = resolveScenario(name);
  return fsScenarioFromYaml(src.text, src.file, over);
}

/** Names of the built-in writeback scenarios (scenarios/iomap-*.yaml). */
export function builtinFsScenarioNames(): string[] {
  return builtinNames().filter((n) => n.startsWith("iomap-"));
}
