/**
 * Syntax highlighting of code blocks, loaded on first use: highlight.js core and a few common languages come in a
 * chunk of their own (a dynamic import, served from this origin, so the CSP's `script-src 'self'` allows it), so a
 * page with no code block never downloads them and the first load does not grow (docs/BENCHMARKS.md, "Page weight").
 * A block in another language stays plain text.
 */

/** The languages in the chunk, by the names and aliases a Markdown fence may use. */
const LANGUAGES: Record<string, string> = {
  typescript: "typescript", ts: "typescript", tsx: "typescript",
  javascript: "javascript", js: "javascript", jsx: "javascript", mjs: "javascript",
  python: "python", py: "python",
  bash: "bash", sh: "bash", shell: "bash", zsh: "bash", console: "bash",
  json: "json",
  yaml: "yaml", yml: "yaml",
  sql: "sql",
  go: "go", golang: "go",
  rust: "rust", rs: "rust",
  java: "java",
  html: "xml", xml: "xml", svg: "xml",
  css: "css",
  diff: "diff", patch: "diff",
};

type Highlighter = (code: string, language: string) => string;

let loading: Promise<Highlighter> | null = null;

function load(): Promise<Highlighter> {
  loading ??= import("./highlight-languages").then((m) => m.highlighter());
  return loading;
}

/** The highlight.js language for a fence's language name, or undefined when the chunk has none for it. */
export function languageOf(name: string): string | undefined {
  return LANGUAGES[name.toLowerCase()];
}

/** Highlights one `<code>` element (when its language is known), once the chunk is loaded. */
export function highlightCode(code: HTMLElement, name: string): void {
  const language = languageOf(name);
  if (language === undefined || code.dataset.highlighted !== undefined) return;
  code.dataset.highlighted = "pending";
  const source = code.textContent ?? "";
  load().then(
    (highlight) => {
      // The block may have been re-rendered meanwhile (the answer went on): leave the new one to its own call.
      if (!code.isConnected || code.textContent !== source) return;
      // highlight.js escapes the source and adds only <span class="hljs-…"> around it.
      code.innerHTML = highlight(source, language);
      code.classList.add("hljs");
      code.dataset.highlighted = language;
    },
    () => {
      loading = null; // a failed download (offline) is tried again by the next block; this one stays plain
      delete code.dataset.highlighted;
    },
  );
}
