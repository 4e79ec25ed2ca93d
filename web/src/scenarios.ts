// The built-in scenarios (scenarios/*.yaml), bundled into the page as text.
import { parse } from "yaml";

const files = import.meta.glob("../../scenarios/*.yaml", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

export interface Builtin {
  name: string;
  title: string;
  text: string;
}

export const BUILTINS: Builtin[] = Object.entries(files)
  .map(([p, text]) => {
    const name = p.replace(/^.*\//, "").replace(/\.yaml$/, "");
    let title = "";
    try {
      title = String((parse(text) as { title?: string })?.title ?? "");
    } catch {
      title = "(unreadable)";
    }
    return { name, title, text };
  })
  .sort((a, b) => a.name.localeCompare(b.name));

export function builtin(name: string): Builtin | undefined {
  return BUILTINS.find((b) => b.name === name);
}
